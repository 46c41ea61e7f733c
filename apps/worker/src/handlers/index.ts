import { noop } from './noop';
import type { HandlerMap } from './types';

export type { Handler, HandlerContext, HandlerMap } from './types';

export const handlers: HandlerMap = { noop };

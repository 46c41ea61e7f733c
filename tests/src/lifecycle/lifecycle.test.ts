import { createHarness } from '../helpers/harness';
import { describeLifecycle } from './describe-lifecycle';

describeLifecycle('job lifecycle', () => createHarness());

import { updateWebhookSettingsRequest, webhookDeliveryView, webhookSettingsView } from '@conveyor/shared';
import type { PathHelpers } from './schedule-paths';

type Json = Record<string, unknown>;

/** `/v1/webhook-settings` and `/v1/jobs/{id}/deliveries` in the OpenAPI document. */
export function webhookPaths({ ref, errors, json, idParam, auth }: PathHelpers): Json {
  const Settings = ref('WebhookSettings', webhookSettingsView);
  const scope =
    'Takes `jobs:write`, reads included: the answer holds the signing secret. See docs/webhooks.md.';
  return {
    '/v1/webhook-settings': {
      get: {
        summary: "The tenant's default webhook endpoint, signing secret and disabled endpoints",
        description: `The secret is made on the first read when the tenant has none. ${scope}`,
        security: auth,
        responses: { 200: json(Settings, 'The settings'), ...errors(401, 403, 503) },
      },
      put: {
        summary: 'Set or remove (null) the default webhook endpoint',
        description: `Setting a URL also re-enables it if a 410 Gone had disabled it. ${scope}`,
        security: auth,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: ref('UpdateWebhookSettings', updateWebhookSettingsRequest, 'input'),
            },
          },
        },
        responses: { 200: json(Settings, 'Saved'), ...errors(400, 401, 403, 413, 415, 422, 503) },
      },
    },
    '/v1/webhook-settings/rotate-secret': {
      post: {
        summary: 'Replace the signing secret; the old one keeps signing (a second signature) for 24 h',
        description: scope,
        security: auth,
        responses: { 200: json(Settings, 'The settings with the new secret'), ...errors(401, 403, 503) },
      },
    },
    '/v1/jobs/{id}/deliveries': {
      get: {
        summary: "A job's webhook delivery attempts, oldest first",
        description: 'Takes `jobs:read`.',
        security: auth,
        parameters: [idParam('job')],
        responses: {
          200: json(
            {
              type: 'object',
              properties: { data: { type: 'array', items: ref('WebhookDelivery', webhookDeliveryView) } },
            },
            'One entry per attempt',
          ),
          ...errors(401, 403, 404, 503),
        },
      },
    },
  };
}

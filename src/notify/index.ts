/** Notifications that leave Carewall: webhooks, retried with back-off. */
export { Webhooks, type WebhookOptions } from './webhooks.js';

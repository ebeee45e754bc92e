/** Notifications: what privacy officers are told, in the console's list, the log and webhooks (retried with back-off). */
export { Notices, type NotificationPage, type NotifyOfficers } from './notices.js';
export { notifyMigrations } from './schema.js';
export { Webhooks, type WebhookOptions } from './webhooks.js';

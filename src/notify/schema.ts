/**
 * The notify capability's tables: the notifications privacy officers read, and how far each reader
 * has read them. They began in access (access v1 and v10), when only grants notified anyone; now
 * every capability does, so they moved here with their rows.
 */
import type { Migration } from '../db/index.js';

export const notifyMigrations: Migration[] = [
  {
    module: 'notify',
    version: 1,
    description:
      'the notifications and read marks move from access (access_notification, access_notification_read) to notify (notify_notice, notify_read), rows kept',
    sql: `
      alter table access_notification rename to notify_notice;
      alter table access_notification_read rename to notify_read;
    `,
  },
];

import { Field, ID, ObjectType } from '@nestjs/graphql';
import type { NotificationRow } from '../dispute.rows.js';

@ObjectType('Notification', { description: 'Something your member should know, e.g. that an indicator it acted on was revoked.' })
export class NotificationObject {
  @Field(() => ID)
  id: string;

  @Field({ description: 'REVOKED (an indicator you reported ACTIONED on was revoked), DISPUTE_UPHELD (… its dispute was upheld), DISPUTE_RESOLVED (your own dispute was decided; the curator’s note in message), WEBHOOK_DISABLED (one of your webhooks was taken out of service after failing; no indicator); more kinds may come.' })
  kind: string;

  @Field()
  message: string;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: 'When your member acknowledged it; null while unread.' })
  readAt: Date | null;

  /** Resolved through the indicator loader: null when it is no longer visible to you. */
  indicatorId: string | null;

  static from(row: NotificationRow): NotificationObject {
    return Object.assign(new NotificationObject(), {
      id: row.id,
      kind: row.kind,
      message: row.message,
      createdAt: row.created_at,
      readAt: row.read_at,
      indicatorId: row.indicator_id,
    });
  }
}

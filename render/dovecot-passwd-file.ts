/**
 * Renders dovecot's passwd-file, used as passdb and userdb:
 * user:password:uid:gid:gecos:home:shell:extra_fields. uid, gid and home come
 * from the userdb's default_fields; the quota, when set, is an extra field.
 */
import { MailSystemModel, sorted } from './model';

export function renderPasswdFile(model: MailSystemModel): string {
  return sorted(model.mailboxes, (m) => m.address)
    .map((m) => {
      const extra = m.quotaBytes > 0 ? `userdb_quota_rule=*:bytes=${m.quotaBytes}` : '';
      return `${m.address}:${m.passwordHash}::::::${extra}\n`;
    })
    .join('');
}

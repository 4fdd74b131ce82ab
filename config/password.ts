import { createHmac } from 'node:crypto';
import { encrypt } from 'unixcrypt';

const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Hashes a password as dovecot's `{SHA512-CRYPT}` scheme (what
 * `doveadm pw -s SHA512-CRYPT` prints). The salt is derived from the address
 * and the password rather than drawn at random, so synthesizing twice gives the
 * same output and the plan shows no change; it is still unique per mailbox.
 */
export function hashPassword(address: string, password: string): string {
  const digest = createHmac('sha256', password).update(`mailstack salt for ${address}`).digest();
  const salt = Array.from(digest.subarray(0, 16), (byte) => CRYPT_ALPHABET[byte % 64]).join('');
  return `{SHA512-CRYPT}${encrypt(password, `$6$${salt}`)}`;
}

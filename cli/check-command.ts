/**
 * `mailstack check`: the post-deploy verification. Every check runs from the
 * outside, through the published ports, as a client would: raw sessions where
 * the exact replies are the point (greetings, EHLO, CAPA, the relay attempt),
 * nodemailer to send a test message and imapflow to read it back.
 */
import { randomBytes } from 'node:crypto';
import { isIP, connect as netConnect, Socket } from 'node:net';
import { ConnectionOptions, connect as tlsConnect, TLSSocket } from 'node:tls';
import { ImapFlow } from 'imapflow';
import * as nodemailer from 'nodemailer';
import { loadConfigFile } from '../config/load';
import { MailService, MailstackConfig } from '../config/model';

export type CheckStatus = 'PASS' | 'FAIL' | 'SKIP';

export interface CheckResult {
  /** smtp, relay refused, submission, submissions, send, receive, imap, imaps, pop3, pop3s (and `smtp <port>` per extra SMTP port). */
  readonly name: string;
  readonly status: CheckStatus;
  /** What was seen; for a failure, what was expected and what happened. */
  readonly detail: string;
}

export interface CheckOptions {
  readonly configPath: string;
  /** The mailbox that sends the test message to itself and reads it back. */
  readonly user: string;
  readonly password: string;
  /**
   * Where the published ports are reached.
   * @default the config's docker.bindAddress; a wildcard means this machine (or the remote engine's host)
   */
  readonly host?: string;
  /** @default 30000 */
  readonly receiveTimeoutMs?: number;
  /** For each connection and each reply. @default 15000 */
  readonly timeoutMs?: number;
}

/** Where the published ports are reached from here. */
export function connectHost(config: { readonly docker: Pick<MailstackConfig['docker'], 'bindAddress' | 'host'> }): string {
  const bind = config.docker.bindAddress;
  if (bind !== '0.0.0.0' && bind !== '::') return bind;
  // A wildcard on a remote engine is published on that engine's host, not on ours.
  const remote = /^(?:ssh|tcp|https?):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)/.exec(config.docker.host);
  return remote ? remote[1].replace(/^\[|\]$/g, '') : '127.0.0.1';
}

/** The table an operator reads: one row per check, continuation lines of a detail kept in its column. */
export function formatChecks(results: readonly CheckResult[]): string {
  const width = Math.max('CHECK'.length, ...results.map((r) => r.name.length));
  const indent = ' '.repeat(width + 2 + 6 + 2);
  const row = (name: string, status: string, detail: string) => `${name.padEnd(width)}  ${status.padEnd(6)}  ${detail.split('\n').join(`\n${indent}`)}`.trimEnd();
  const count = (status: CheckStatus) => results.filter((r) => r.status === status).length;
  return [
    row('CHECK', 'RESULT', 'DETAIL'),
    ...results.map((r) => row(r.name, r.status, r.detail)),
    '',
    `${count('PASS')} passed, ${count('FAIL')} failed, ${count('SKIP')} skipped`,
  ].join('\n') + '\n';
}

interface Context {
  readonly host: string;
  /** SNI and the name the certificate is checked against. */
  readonly servername?: string;
  readonly timeoutMs: number;
}

export async function runChecks(options: CheckOptions): Promise<CheckResult[]> {
  const config = loadConfigFile(options.configPath);
  const user = options.user.toLowerCase();
  // Only mailboxes log in (aliases have no password), so a typo would otherwise read as a broken server.
  if (!config.mailboxes.some((m) => m.address === user)) throw new Error(`${options.user} is not one of the mailboxes in ${options.configPath}`);
  const ctx: Context = {
    host: options.host ?? connectHost(config),
    servername: isIP(config.hostname) ? undefined : config.hostname,
    timeoutMs: options.timeoutMs ?? 15_000,
  };
  const { ports } = config;
  const probe = (name: string, service: MailService, check: (port: number) => Promise<string>): Promise<CheckResult> => {
    const port = ports[service];
    if (port === undefined) return Promise.resolve({ name, status: 'SKIP', detail: `not published (no ports.${service})` });
    return attempt(name, address(ctx, port), () => check(port));
  };

  const token = randomBytes(8).toString('hex');
  const message = { subject: `mailstack check ${token}`, messageId: `<mailstack-check-${token}@${config.hostname}>`, token };
  const sendVia: MailService | undefined = ports.submission !== undefined ? 'submission' : ports.submissions !== undefined ? 'submissions' : undefined;
  const readVia: MailService | undefined = ports.imaps !== undefined ? 'imaps' : ports.imap !== undefined ? 'imap' : undefined;
  const account = { user, pass: options.password };
  // Send, then look for it: the one pair of checks that depend on each other.
  const mail = (async (): Promise<CheckResult[]> => {
    const send = sendVia
      ? await probe('send', sendVia, (port) => sendTestMessage(ctx, port, sendVia === 'submissions', account, message))
      : ({ name: 'send', status: 'SKIP', detail: 'not published (neither ports.submission nor ports.submissions)' } as const);
    if (!readVia) return [send, { name: 'receive', status: 'SKIP', detail: 'not published (neither ports.imaps nor ports.imap)' }];
    if (send.status === 'SKIP') return [send, { name: 'receive', status: 'SKIP', detail: 'nothing was sent to look for' }];
    const receive = await probe('receive', readVia, (port) =>
      receiveTestMessage(ctx, port, readVia === 'imaps', account, message, send.status === 'PASS', options.receiveTimeoutMs ?? 30_000),
    );
    return [send, receive];
  })();

  const [smtp, extra, relay, submission, submissions, [send, receive], imap, imaps, pop3, pop3s] = await Promise.all([
    probe('smtp', 'smtp', (port) => checkSmtp(ctx, port)),
    Promise.all(config.extraSmtpPorts.map((port) => attempt(`smtp ${port}`, address(ctx, port), () => checkSmtp(ctx, port)))),
    probe('relay refused', 'smtp', (port) => checkRelayRefused(ctx, port)),
    probe('submission', 'submission', (port) => checkSubmission(ctx, port)),
    probe('submissions', 'submissions', (port) => checkSubmissions(ctx, port)),
    mail,
    probe('imap', 'imap', (port) => checkImap(ctx, port)),
    probe('imaps', 'imaps', (port) => checkImaps(ctx, port)),
    probe('pop3', 'pop3', (port) => checkPop3(ctx, port)),
    probe('pop3s', 'pop3s', (port) => checkPop3s(ctx, port)),
  ]);
  return [smtp, ...extra, relay, submission, submissions, send, receive, imap, imaps, pop3, pop3s];
}

const address = (ctx: Context, port: number) => (isIP(ctx.host) === 6 ? `[${ctx.host}]:${port}` : `${ctx.host}:${port}`);

/** Runs one check: what it returns is a pass, what it throws a failure. */
async function attempt(name: string, address: string, check: () => Promise<string>): Promise<CheckResult> {
  try {
    return { name, status: 'PASS', detail: `${address}: ${await check()}` };
  } catch (err) {
    const reason = (err as Error).message || String(err);
    // Socket errors already name the address ("connect ECONNREFUSED 127.0.0.1:25").
    return { name, status: 'FAIL', detail: reason.includes(address) ? reason : `${address}: ${reason}` };
  }
}

// ---------------------------------------------------------------- the checks

async function checkSmtp(ctx: Context, port: number): Promise<string> {
  return withSession(ctx, port, false, async (s) => {
    const greeting = await smtpExpect(s, undefined, 220, 'a 220 greeting');
    const before = await ehlo(s);
    if (!before.includes('STARTTLS')) throw new Error(`expected STARTTLS in the EHLO reply, got: ${before.join(', ') || 'nothing'}`);
    await smtpExpect(s, 'STARTTLS', 220);
    const tls = describeTls(await s.startTls());
    await ehlo(s);
    return `${oneLine(greeting)}; STARTTLS: ${tls}`;
  });
}

async function checkRelayRefused(ctx: Context, port: number): Promise<string> {
  return withSession(ctx, port, false, async (s) => {
    await smtpExpect(s, undefined, 220, 'a 220 greeting');
    await ehlo(s);
    const from = await smtpCommand(s, 'MAIL FROM:<check@example.invalid>');
    if (from.code !== 250) return `refused already at MAIL FROM:<check@example.invalid>: ${oneLine(from)}`;
    const rcpt = await smtpCommand(s, 'RCPT TO:<someone@example.invalid>');
    await smtpCommand(s, 'RSET').catch(() => undefined);
    if (rcpt.code >= 200 && rcpt.code < 300) {
      throw new Error(`expected RCPT TO:<someone@example.invalid> (unauthenticated, a domain not ours) to be refused, got "${oneLine(rcpt)}": an open relay`);
    }
    return `RCPT TO:<someone@example.invalid> without AUTH: ${oneLine(rcpt)}`;
  });
}

async function checkSubmission(ctx: Context, port: number): Promise<string> {
  return withSession(ctx, port, false, async (s) => {
    await smtpExpect(s, undefined, 220, 'a 220 greeting');
    const before = await ehlo(s);
    const early = before.find((k) => /^AUTH\b/.test(k));
    if (early) throw new Error(`expected no AUTH before STARTTLS, got "${early}" (passwords could cross in clear)`);
    if (!before.includes('STARTTLS')) throw new Error(`expected STARTTLS in the EHLO reply, got: ${before.join(', ') || 'nothing'}`);
    await smtpExpect(s, 'STARTTLS', 220);
    const tls = describeTls(await s.startTls());
    const auth = requireAuth(await ehlo(s), 'after STARTTLS');
    return `no AUTH before STARTTLS, ${auth} after; STARTTLS: ${tls}`;
  });
}

async function checkSubmissions(ctx: Context, port: number): Promise<string> {
  return withSession(ctx, port, true, async (s, tls) => {
    await smtpExpect(s, undefined, 220, 'a 220 greeting');
    return `${requireAuth(await ehlo(s), 'over TLS')}; ${tls}`;
  });
}

async function checkImap(ctx: Context, port: number): Promise<string> {
  return withSession(ctx, port, false, async (s) => {
    const greeting = await s.read(line);
    if (!/^\* OK/i.test(greeting)) throw new Error(`expected an "* OK" greeting, got "${greeting}"`);
    // Dovecot puts its capabilities in the greeting; ask when a server does not.
    const caps = /\[CAPABILITY ([^\]]*)\]/i.exec(greeting)?.[1] ?? /^\* CAPABILITY (.*)$/im.exec(await imapCommand(s, 'c1', 'CAPABILITY'))?.[1] ?? '';
    const words = caps.toUpperCase().split(/\s+/);
    if (!words.includes('LOGINDISABLED')) throw new Error(`expected LOGINDISABLED before STARTTLS (no clear-text LOGIN), got capabilities: ${caps}`);
    if (!words.includes('STARTTLS')) throw new Error(`expected STARTTLS among the capabilities, got: ${caps}`);
    const reply = await imapCommand(s, 'c2', 'STARTTLS');
    if (!/^c2 OK/im.test(reply)) throw new Error(`expected "c2 OK" to STARTTLS, got "${reply.trim()}"`);
    const tls = describeTls(await s.startTls());
    await imapCommand(s, 'c3', 'LOGOUT').catch(() => undefined);
    return `LOGINDISABLED before STARTTLS; STARTTLS: ${tls}`;
  });
}

async function checkImaps(ctx: Context, port: number): Promise<string> {
  return withSession(ctx, port, true, async (s, tls) => {
    const greeting = await s.read(line);
    if (!/^\* OK/i.test(greeting)) throw new Error(`expected an "* OK" greeting, got "${greeting}"`);
    await imapCommand(s, 'c1', 'LOGOUT').catch(() => undefined);
    return `${greeting.replace(/\[[^\]]*\] ?/, '')}; ${tls}`;
  });
}

async function checkPop3(ctx: Context, port: number): Promise<string> {
  return withSession(ctx, port, false, async (s) => {
    const greeting = await s.read(line);
    if (!greeting.startsWith('+OK')) throw new Error(`expected a "+OK" greeting, got "${greeting}"`);
    s.write('CAPA');
    const capa = (await s.read(pop3Multiline)).split('\r\n');
    if (!capa[0].startsWith('+OK')) throw new Error(`expected "+OK" to CAPA, got "${capa[0]}"`);
    const caps = capa.slice(1).map((c) => c.toUpperCase());
    if (caps.includes('USER')) throw new Error('expected no USER before STLS (no clear-text passwords), got USER in CAPA');
    const sasl = caps.find((c) => c.startsWith('SASL')) ?? '';
    if (/\b(PLAIN|LOGIN)\b/.test(sasl)) throw new Error(`expected no PLAIN or LOGIN before STLS, got "${sasl}" in CAPA`);
    if (!caps.includes('STLS')) throw new Error(`expected STLS in CAPA, got: ${caps.join(', ')}`);
    s.write('STLS');
    const stls = await s.read(line);
    if (!stls.startsWith('+OK')) throw new Error(`expected "+OK" to STLS, got "${stls}"`);
    const tls = describeTls(await s.startTls());
    s.write('QUIT');
    return `no USER or PLAIN before STLS; STLS: ${tls}`;
  });
}

async function checkPop3s(ctx: Context, port: number): Promise<string> {
  return withSession(ctx, port, true, async (s, tls) => {
    const greeting = await s.read(line);
    if (!greeting.startsWith('+OK')) throw new Error(`expected a "+OK" greeting, got "${greeting}"`);
    s.write('QUIT');
    return `${greeting}; ${tls}`;
  });
}

interface TestMessage {
  readonly subject: string;
  readonly messageId: string;
  /** Unique to this run; what the receive check searches for. */
  readonly token: string;
}

async function sendTestMessage(ctx: Context, port: number, implicitTls: boolean, account: { user: string; pass: string }, message: TestMessage): Promise<string> {
  const transport = nodemailer.createTransport({
    host: ctx.host,
    port,
    secure: implicitTls,
    // Never send the password before TLS, even if the server offered AUTH.
    requireTLS: !implicitTls,
    auth: account,
    tls: tlsOptions(ctx),
    connectionTimeout: ctx.timeoutMs,
    greetingTimeout: ctx.timeoutMs,
    socketTimeout: ctx.timeoutMs,
  });
  try {
    const info = await transport.sendMail({
      from: account.user,
      to: account.user,
      subject: message.subject,
      messageId: message.messageId,
      text: 'A test message from `mailstack check`; the check deletes it once it has arrived.\n',
    });
    return `${account.user} to itself over ${implicitTls ? 'implicit TLS' : 'STARTTLS'}: ${oneLine(String(info.response))}`;
  } catch (err) {
    // A server's refusal gets what was asked of it; a socket error already says what failed.
    if ((err as { response?: string }).response) throw new Error(`expected to log in as ${account.user} and have the message accepted, got: ${(err as Error).message}`);
    throw err;
  } finally {
    transport.close();
  }
}

async function receiveTestMessage(
  ctx: Context,
  port: number,
  implicitTls: boolean,
  account: { user: string; pass: string },
  message: TestMessage,
  sent: boolean,
  timeoutMs: number,
): Promise<string> {
  const client = new ImapFlow({
    host: ctx.host,
    port,
    secure: implicitTls,
    doSTARTTLS: implicitTls ? undefined : true,
    auth: account,
    tls: tlsOptions(ctx),
    logger: false,
    connectionTimeout: ctx.timeoutMs,
    greetingTimeout: ctx.timeoutMs,
    socketTimeout: Math.max(ctx.timeoutMs, timeoutMs) + 5_000,
  });
  // Failures also reject the command that was running; without a listener, an 'error' event would end the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw new Error(imapError(err, 'log in'));
  }
  try {
    const lock = await client.getMailboxLock('INBOX').catch((err) => {
      throw new Error(imapError(err, 'open INBOX'));
    });
    try {
      if (!sent) throw new Error('logged in, but there is no test message to look for: the send check failed');
      const started = Date.now();
      for (;;) {
        const found = await client.search({ header: { 'message-id': message.token } }, { uid: true });
        if (found && found.length > 0) {
          const seconds = ((Date.now() - started) / 1000).toFixed(1);
          // Delete it, so repeated checks leave nothing behind.
          await client.messageDelete(found, { uid: true });
          return `"${message.subject}" in INBOX over ${implicitTls ? 'IMAPS' : 'IMAP with STARTTLS'} after ${seconds} s, deleted`;
        }
        if (Date.now() - started > timeoutMs) {
          throw new Error(`expected ${message.messageId} in INBOX within ${timeoutMs / 1000} s, it did not arrive (see \`mailstack logs\` and \`mailstack queue list\`)`);
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    } catch (err) {
      throw new Error(imapError(err, 'read INBOX'));
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** imapflow's errors say "Command failed"; the server's own words are in responseText. */
function imapError(err: unknown, what: string): string {
  const e = err as Error & { responseText?: string; serverResponseCode?: string; code?: string };
  if (e.responseText) return `could not ${what}: ${e.serverResponseCode ? `[${e.serverResponseCode}] ` : ''}${e.responseText}`;
  return e.message;
}

// ---------------------------------------------------------------- TLS

function tlsOptions(ctx: Context): ConnectionOptions {
  // The stack's default certificate is self-signed: accept it, and report what it is instead.
  return { rejectUnauthorized: false, minVersion: 'TLSv1.2', servername: ctx.servername };
}

/** "TLSv1.3, certificate CN=mail.example.test (self-signed), valid until 2035-06-01"; throws on an old protocol or an expired certificate. */
export function describeTls(socket: TLSSocket, now = new Date()): string {
  const protocol = socket.getProtocol() ?? 'unknown';
  if (!['TLSv1.2', 'TLSv1.3'].includes(protocol)) throw new Error(`expected TLS 1.2 or higher, negotiated ${protocol}`);
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) throw new Error(`${protocol}, but the server sent no certificate`);
  // A certificate for a name over 64 characters has no CN: its subjectAltName names it.
  const subject = cert.subject?.CN ? `CN=${cert.subject.CN}` : cert.subjectaltname || JSON.stringify(cert.subject ?? {});
  const notAfter = new Date(cert.valid_to);
  const notBefore = new Date(cert.valid_from);
  const error = String(socket.authorizationError ?? '');
  const trust = socket.authorized ? 'trusted' : /SELF_SIGNED/.test(error) ? 'self-signed' : `not trusted: ${error}`;
  const described = `${protocol}, certificate ${subject} (${trust}), valid until ${notAfter.toISOString().slice(0, 10)}`;
  if (notAfter < now) throw new Error(`expected a certificate valid now, got one that expired: ${described}`);
  if (notBefore > now) throw new Error(`expected a certificate valid now, got one not valid before ${notBefore.toISOString()}: ${described}`);
  return described;
}

// ---------------------------------------------------------------- line-based sessions

/** Takes one complete reply off the front of the buffer, or undefined while it is incomplete. */
type Parser<T> = (buffer: string) => { value: T; length: number } | undefined;

const line: Parser<string> = (buffer) => {
  const end = buffer.indexOf('\r\n');
  return end < 0 ? undefined : { value: buffer.slice(0, end), length: end + 2 };
};

/** POP3: one line for -ERR, else up to the lone dot (RFC 1939). */
const pop3Multiline: Parser<string> = (buffer) => {
  const first = line(buffer);
  if (!first || first.value.startsWith('-ERR')) return first;
  const end = buffer.indexOf('\r\n.\r\n');
  return end < 0 ? undefined : { value: buffer.slice(0, end), length: end + 5 };
};

interface SmtpReply {
  readonly code: number;
  readonly lines: readonly string[];
}

const smtpReply: Parser<SmtpReply> = (buffer) => {
  const m = /^((?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n)/.exec(buffer);
  if (!m) return undefined;
  const lines = m[1].trimEnd().split('\r\n');
  return { value: { code: Number(lines[0].slice(0, 3)), lines: lines.map((l) => l.slice(4)) }, length: m[1].length };
};

const oneLine = (reply: SmtpReply | string) => (typeof reply === 'string' ? reply.trim() : `${reply.code} ${reply.lines.join(' / ')}`);

/** A connection that sends lines and reads replies with a deadline, and can switch to TLS mid-session. */
class Session {
  private buffer = '';
  private ended?: Error;
  private notify?: () => void;

  private constructor(
    private socket: Socket | TLSSocket,
    private readonly ctx: Context,
  ) {
    this.attach(socket);
  }

  static async open(ctx: Context, port: number, implicitTls: boolean): Promise<Session> {
    const socket = implicitTls ? tlsConnect({ host: ctx.host, port, ...tlsOptions(ctx) }) : netConnect({ host: ctx.host, port });
    const session = new Session(socket, ctx);
    await session.until(implicitTls ? 'secureConnect' : 'connect', `${implicitTls ? 'a TLS handshake' : 'a connection'}`);
    return session;
  }

  get tls(): TLSSocket {
    return this.socket as TLSSocket;
  }

  private attach(socket: Socket | TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8');
      this.notify?.();
    });
    const end = (err: Error) => {
      this.ended ??= err;
      this.notify?.();
    };
    socket.on('error', end);
    socket.on('close', () => end(new Error('the server closed the connection')));
  }

  /** Waits for a socket event, failing on an error or the deadline. */
  private until(event: 'connect' | 'secureConnect', what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        reject(new Error(`expected ${what} within ${this.ctx.timeoutMs / 1000} s, got none`));
      }, this.ctx.timeoutMs);
      this.socket.once(event, () => (clearTimeout(timer), resolve()));
      this.socket.once('error', (err) => (clearTimeout(timer), reject(err)));
    });
  }

  read<T>(parse: Parser<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`expected a reply within ${this.ctx.timeoutMs / 1000} s, got ${JSON.stringify(this.buffer) || 'nothing'}`)), this.ctx.timeoutMs);
      const finish = (err?: Error, value?: T) => {
        clearTimeout(timer);
        this.notify = undefined;
        if (err) reject(err);
        else resolve(value as T);
      };
      this.notify = () => {
        const parsed = parse(this.buffer);
        if (parsed) {
          this.buffer = this.buffer.slice(parsed.length);
          return finish(undefined, parsed.value);
        }
        if (this.ended) finish(new Error(`${this.ended.message}${this.buffer ? ` after ${JSON.stringify(this.buffer)}` : ''}`));
      };
      this.notify();
    });
  }

  write(text: string): void {
    this.socket.write(`${text}\r\n`);
  }

  /** After the server agreed to STARTTLS/STLS: the handshake on the same connection. */
  async startTls(): Promise<TLSSocket> {
    this.socket.removeAllListeners('data').removeAllListeners('error').removeAllListeners('close');
    // Its errors now surface on the TLS socket; unheard, one here would end the process.
    this.socket.on('error', () => undefined);
    this.socket = tlsConnect({ socket: this.socket as Socket, ...tlsOptions(this.ctx) });
    this.attach(this.socket);
    await this.until('secureConnect', 'a TLS handshake');
    return this.tls;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Opens a session, runs `use`, and always closes it; an implicit-TLS session's handshake is described first. */
async function withSession(ctx: Context, port: number, implicitTls: boolean, use: (s: Session, tls: string) => Promise<string>): Promise<string> {
  const s = await Session.open(ctx, port, implicitTls);
  try {
    return await use(s, implicitTls ? describeTls(s.tls) : '');
  } finally {
    s.close();
  }
}

async function smtpCommand(s: Session, command: string): Promise<SmtpReply> {
  s.write(command);
  return s.read(smtpReply);
}

/** Sends a command (or, without one, reads the greeting) and insists on a reply code. */
async function smtpExpect(s: Session, command: string | undefined, code: number, what = `${code} to ${command}`): Promise<SmtpReply> {
  const reply = command === undefined ? await s.read(smtpReply) : await smtpCommand(s, command);
  if (reply.code !== code) throw new Error(`expected ${what}, got "${oneLine(reply)}"`);
  return reply;
}

/** EHLO's keywords, upper-case (["PIPELINING", "STARTTLS", "AUTH PLAIN LOGIN"]). */
async function ehlo(s: Session): Promise<string[]> {
  const reply = await smtpExpect(s, 'EHLO mailstack-check.invalid', 250);
  return reply.lines.slice(1).map((l) => l.toUpperCase());
}

function requireAuth(keywords: readonly string[], when: string): string {
  const auth = keywords.find((k) => /^AUTH\b/.test(k));
  const mechanisms = auth?.split(/\s+/).slice(1) ?? [];
  if (!mechanisms.includes('PLAIN') || !mechanisms.includes('LOGIN')) throw new Error(`expected AUTH PLAIN and LOGIN ${when}, got ${auth ? `"${auth}"` : 'no AUTH'}`);
  return auth!;
}

/** Sends a tagged IMAP command and reads up to its tagged completion. */
async function imapCommand(s: Session, tag: string, command: string): Promise<string> {
  s.write(`${tag} ${command}`);
  const tagged = new RegExp(`^${tag} (?:OK|NO|BAD)[^\\r\\n]*\\r\\n`, 'm');
  return s.read((buffer) => {
    const m = tagged.exec(buffer);
    return m ? { value: buffer.slice(0, m.index + m[0].length), length: m.index + m[0].length } : undefined;
  });
}

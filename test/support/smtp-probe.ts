/**
 * A raw SMTP session for probing what the server answers to each command
 * (relay tricks, AUTH before TLS): a mail library would hide exactly the
 * replies these tests are about. Sending real mail goes through nodemailer.
 */
import { connect as netConnect, Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';

export interface Reply {
  readonly code: number;
  readonly lines: string[];
  readonly text: string;
}

export class SmtpProbe {
  private buffer = '';
  private waiters: { resolve: (reply: Reply) => void; reject: (err: Error) => void }[] = [];
  private pending: Reply[] = [];
  private closed?: Error;

  private constructor(private socket: Socket | TLSSocket) {
    this.attach(socket);
  }

  /** Connects and reads the greeting. */
  static async open(port: number, options: { implicitTls?: boolean; host?: string } = {}): Promise<{ probe: SmtpProbe; greeting: Reply }> {
    const host = options.host ?? '127.0.0.1';
    const socket = options.implicitTls ? tlsConnect({ host, port, rejectUnauthorized: false }) : netConnect({ host, port });
    const probe = new SmtpProbe(socket);
    socket.setTimeout(20_000, () => socket.destroy(new Error('SMTP probe timed out')));
    return { probe, greeting: await probe.reply() };
  }

  /** Connects and says EHLO; with `starttls`, switches to TLS and says EHLO again (ready for AUTH on submission). */
  static async session(port: number, options: { host?: string; starttls?: boolean } = {}): Promise<SmtpProbe> {
    const { probe } = await SmtpProbe.open(port, { host: options.host });
    await probe.ehlo();
    if (options.starttls) {
      await probe.starttls();
      await probe.ehlo();
    }
    return probe;
  }

  private attach(socket: Socket | TLSSocket) {
    const fail = (err: Error) => {
      this.closed ??= err;
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${err.message} while waiting for a reply (unparsed: ${JSON.stringify(this.buffer)})`));
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (;;) {
        const m = /^((?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n)/.exec(this.buffer);
        if (!m) break;
        this.buffer = this.buffer.slice(m[1].length);
        const lines = m[1].trimEnd().split('\r\n');
        const reply = { code: Number(lines[0].slice(0, 3)), lines: lines.map((l) => l.slice(4)), text: m[1].trimEnd() };
        const waiter = this.waiters.shift();
        if (waiter) waiter.resolve(reply);
        else this.pending.push(reply);
      }
    });
  }

  reply(): Promise<Reply> {
    const queued = this.pending.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Writes raw bytes with no reply expected (e.g. a message body in pieces). */
  write(data: string): void {
    this.socket.write(data);
  }

  async send(line: string): Promise<Reply> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  /** EHLO's keywords, upper-case (e.g. ["PIPELINING", "STARTTLS", "AUTH PLAIN LOGIN"]). */
  async ehlo(name = 'client.remote.test'): Promise<string[]> {
    const r = await this.send(`EHLO ${name}`);
    if (r.code !== 250) throw new Error(`EHLO refused: ${r.text}`);
    return r.lines.slice(1).map((l) => l.toUpperCase());
  }

  async starttls(): Promise<void> {
    const r = await this.send('STARTTLS');
    if (r.code !== 220) throw new Error(`STARTTLS refused: ${r.text}`);
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('error');
    const secure = tlsConnect({ socket: this.socket as Socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    this.socket = secure;
    this.attach(secure);
  }

  close(): void {
    this.socket.end('QUIT\r\n');
    this.socket.destroy();
  }
}

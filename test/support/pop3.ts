/** A minimal POP3 client (RFC 1939 + STLS, RFC 2595): no maintained POP3 library fits, and the tests need the raw replies. */
import { connect as netConnect, Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';

export class Pop3 {
  private buffer = '';
  private wanted?: { multiline: boolean; resolve: (s: string) => void; reject: (e: Error) => void };

  private constructor(private socket: Socket | TLSSocket) {
    this.attach(socket);
  }

  static async open(port: number, implicitTls: boolean): Promise<{ pop: Pop3; greeting: string }> {
    const socket = implicitTls ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }) : netConnect({ host: '127.0.0.1', port });
    socket.setTimeout(20_000, () => socket.destroy(new Error('POP3 timed out')));
    const pop = new Pop3(socket);
    return { pop, greeting: await pop.read(false) };
  }

  private attach(socket: Socket | TLSSocket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.deliver();
    });
    socket.on('error', (e) => this.wanted?.reject(e));
    socket.on('close', () => this.wanted?.reject(new Error('POP3 connection closed')));
  }

  private deliver() {
    const w = this.wanted;
    if (!w) return;
    const end = this.buffer.indexOf('\r\n');
    if (end < 0) return;
    const first = this.buffer.slice(0, end);
    if (!w.multiline || first.startsWith('-ERR')) {
      this.buffer = this.buffer.slice(end + 2);
      this.wanted = undefined;
      return w.resolve(first);
    }
    const stop = this.buffer.indexOf('\r\n.\r\n');
    if (stop < 0) return;
    const all = this.buffer.slice(0, stop);
    this.buffer = this.buffer.slice(stop + 5);
    this.wanted = undefined;
    w.resolve(all);
  }

  private read(multiline: boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      this.wanted = { multiline, resolve, reject };
      this.deliver();
    });
  }

  /** Sends a command; multi-line answers (LIST, RETR, CAPA) come back whole, dot-terminator removed. */
  command(line: string, multiline = false): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.read(multiline);
  }

  async stls(): Promise<void> {
    const r = await this.command('STLS');
    if (!r.startsWith('+OK')) throw new Error(`STLS refused: ${r}`);
    this.socket.removeAllListeners();
    const secure = tlsConnect({ socket: this.socket as Socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    this.socket = secure;
    this.attach(secure);
  }

  close(): void {
    this.socket.end('QUIT\r\n');
  }
}

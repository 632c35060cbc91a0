// FakeSocket stands in for the browser WebSocket in unit tests of the protocol client's users (the
// client itself, the portal's chat session, the call hook); the end-to-end tests (e2e/portal.test.mjs)
// run the same code against the real hub. Test code only: nothing the UIs ship imports it.
import type { SocketLike } from '../client';
import type * as wire from '../wire.gen';

export class FakeSocket implements SocketLike {
  readyState = 0;
  sent: wire.Envelope[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closed = false;
  constructor(public url = '') {}
  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data));
  }
  close(code?: number): void {
    if (this.closed) return;
    this.closed = true;
    this.readyState = 3;
    this.onclose?.(code === undefined ? {} : { code });
  }
  // Test side.
  /** accept opens the socket, as the hub accepting the connection. */
  accept(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  /** deliver hands the client an envelope from the hub. */
  deliver(env: wire.Envelope): void {
    this.onmessage?.({ data: JSON.stringify(env) });
  }
  /** welcome delivers the hub's welcome with these conversations. */
  welcome(conversations: Partial<wire.Conversation>[] = []): void {
    this.deliver({ type: 'welcome', data: { role: 'customer', conversations, max_text_bytes: 4000, server_time: 0 } });
  }
  /** drop closes the connection from the hub's side. */
  drop(): void {
    this.close();
  }
  /** ofType lists what the client sent of one type. */
  ofType(t: wire.Type): wire.Envelope[] {
    return this.sent.filter((e) => e.type === t);
  }
}

/**
 * A TCP proxy a test starts between Carewall and a PostgreSQL server, so that the test can cut the
 * database connection (every socket reset, nothing listening) without touching the server itself,
 * which other tests may be using at the same time.
 */
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections from the client open through the proxy now. */
  readonly open: number;
  /** Resets every proxied connection (the client side sees ECONNRESET) and stops listening. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const clients = new Set<net.Socket>();
  const upstreams = new Set<net.Socket>();
  const track = (set: Set<net.Socket>, s: net.Socket) => {
    set.add(s);
    s.on('close', () => set.delete(s));
    // A reset or a refused upstream is what this proxy is for: never an unhandled 'error'.
    s.on('error', () => undefined);
  };
  const server = net.createServer((client) => {
    track(clients, client);
    const upstream = net.connect(target.port, target.host);
    track(upstreams, upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    // Either side gone: the other goes too, as a broken network path would leave it.
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      if (server.listening) return resolve();
      server.once('error', reject);
      server.listen({ port, host: '127.0.0.1' }, () => {
        server.off('error', reject);
        port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await listen();
  const cut = async () => {
    const closed = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    // RST rather than FIN towards the client: what a dead database host or a failover looks like.
    for (const s of clients) if (!s.destroyed) s.resetAndDestroy();
    for (const s of upstreams) s.destroy();
    await closed;
  };
  return {
    get port() {
      return port;
    },
    get open() {
      return clients.size;
    },
    cut,
    resume: listen,
    close: cut,
  };
}

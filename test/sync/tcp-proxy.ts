/**
 * A TCP proxy in front of PostgreSQL that a test can cut and restore: the database "goes away" for the
 * client (open connections reset, new ones refused) without stopping the server other tests may use.
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Bytes-carrying chunks the client sent since the last reset (one per query, roughly). */
  readonly clientChunks: number;
  resetCount(): void;
  /** Called with the running chunk count before each chunk is forwarded. */
  onClientChunk: ((count: number) => void) | null;
  /** Resets every open connection and refuses new ones. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let down = false;
  let chunks = 0;
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const close = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('data', (d) => {
      chunks++;
      proxy.onClientChunk?.(chunks);
      if (!down && !upstream.destroyed) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!down && !client.destroyed) client.write(d);
    });
    for (const s of pair) {
      s.on('error', close);
      s.on('close', close);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const proxy: TcpProxy = {
    port: (server.address() as net.AddressInfo).port,
    get clientChunks() {
      return chunks;
    },
    resetCount() {
      chunks = 0;
    },
    onClientChunk: null,
    cut() {
      down = true;
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    restore() {
      down = false;
    },
    async close() {
      proxy.cut();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return proxy;
}

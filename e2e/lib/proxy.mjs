// A TCP proxy on loopback between a browser and the hub, so a test can break the network for real:
// freeze() silently discards what the hub sends (the link looks alive but answers never arrive),
// drop() cuts every connection, block(true) refuses new ones until block(false).
import net from 'node:net';

/** startProxy forwards 127.0.0.1:<random port> to target (a URL or "host:port"). */
export async function startProxy(target) {
  const { hostname, port } = new URL(target.includes('://') ? target : `tcp://${target}`);
  const conns = new Set();
  let blocked = false;
  const server = net.createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    const c = { client, upstream, frozen: false };
    conns.add(c);
    const end = () => {
      client.destroy();
      upstream.destroy();
      conns.delete(c);
    };
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (!c.frozen) client.write(d);
    });
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    /** connections is how many connections are open now. */
    get connections() {
      return conns.size;
    },
    freeze() {
      for (const c of conns) c.frozen = true;
    },
    drop() {
      for (const c of [...conns]) {
        c.client.destroy();
        c.upstream.destroy();
      }
      conns.clear();
    },
    block(on) {
      blocked = on;
    },
    close() {
      this.drop();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

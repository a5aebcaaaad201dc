import net from "node:net";

export type TcpProxy = {
  port: number;
  /**
   * A network split: from now on nothing crosses in either direction, not even a close, and
   * nothing is refused (new connections are accepted and then hear nothing).
   */
  cut(): void;
  /** The split heals: what was held back is delivered, in order. */
  heal(): void;
  close(): Promise<void>;
};

/** A TCP proxy on 127.0.0.1 (a port picked by the OS) to `target`, that a test can cut. */
export async function startTcpProxy(target: net.NetConnectOpts): Promise<TcpProxy> {
  let cut = false;
  const held: (() => void)[] = [];
  const sockets = new Set<net.Socket>();
  const deliver = (fn: () => void) => (cut ? held.push(fn) : fn());
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ]) {
      sockets.add(from);
      from.on("error", () => undefined);
      from.on("data", (chunk) => deliver(() => to.write(chunk)));
      from.on("close", () => {
        sockets.delete(from);
        deliver(() => to.destroy());
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () => {
      cut = true;
    },
    heal: () => {
      cut = false;
      for (const fn of held.splice(0)) fn();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

import net from 'node:net';

/**
 * A fake clamd speaking the real INSTREAM protocol: `zINSTREAM\0` (or `nINSTREAM\n`), chunks each
 * after a 4-byte big-endian length, a zero length to finish; answers `stream: OK` or
 * `stream: Win.Test.EICAR_HDB-1 FOUND` for the EICAR test string, then closes, as clamd does.
 *
 *   const clamd = await startFakeClamd();   // CLAMD_ADDRESS = clamd.address
 *   clamd.scans                              // bytes scanned per finished stream
 */
export interface FakeClamd {
  address: string;
  readonly scans: number[];
  close(): Promise<void>;
}

export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const STREAM_MAX = 25 * 1024 * 1024;

export async function startFakeClamd(): Promise<FakeClamd> {
  const scans: number[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffer = Buffer.alloc(0);
    let command: 'z' | 'n' | undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    const reply = (text: string) => socket.end(command === 'n' ? `${text}\n` : `${text}\0`);

    socket.on('data', (data) => {
      buffer = Buffer.concat([buffer, data]);
      if (command === undefined) {
        const end = buffer.findIndex((b) => b === 0 || b === 10);
        if (end < 0) return;
        const name = buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end + 1);
        if (name !== 'zINSTREAM' && name !== 'nINSTREAM') return reply('UNKNOWN COMMAND');
        command = name[0] as 'z' | 'n';
      }
      while (buffer.length >= 4) {
        const length = buffer.readUInt32BE(0);
        if (length === 0) {
          const content = Buffer.concat(chunks);
          scans.push(content.length);
          return reply(content.includes(EICAR) ? 'stream: Win.Test.EICAR_HDB-1 FOUND' : 'stream: OK');
        }
        if (buffer.length < 4 + length) return;
        chunks.push(buffer.subarray(4, 4 + length));
        received += length;
        buffer = buffer.subarray(4 + length);
        if (received > STREAM_MAX) return reply('INSTREAM size limit exceeded. ERROR');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    scans,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

import net from 'node:net';
import { Readable } from 'node:stream';
import { scanStream, ScannerUnavailableError } from '../../src/media/clamd';
import { EICAR, type FakeClamd, startFakeClamd } from '../fakes/clamd';

describe('clamd INSTREAM scanning', () => {
  let clamd: FakeClamd;
  beforeAll(async () => {
    clamd = await startFakeClamd();
  });
  afterAll(() => clamd.close());

  it('passes a clean stream sent in several chunks', async () => {
    const body = Readable.from([Buffer.alloc(100_000, 1), Buffer.alloc(50_000, 2)]);
    await expect(scanStream(clamd.address, body)).resolves.toEqual({ clean: true });
    expect(clamd.scans.at(-1)).toBe(150_000);
  });

  it('reports the signature of the EICAR test file', async () => {
    const body = Readable.from([Buffer.from(`prefix ${EICAR} suffix`)]);
    await expect(scanStream(clamd.address, body)).resolves.toEqual({ clean: false, signature: 'Win.Test.EICAR_HDB-1' });
  });

  it('says the scanner is unavailable when nothing listens', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as net.AddressInfo;
        server.close(() => resolve(free));
      });
    });
    await expect(scanStream(`127.0.0.1:${port}`, Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(ScannerUnavailableError);
  });

  it('does not take an answer that is not a verdict', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.end('UNKNOWN COMMAND\0');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await expect(scanStream(`127.0.0.1:${port}`, Readable.from([Buffer.from('x')]))).rejects.toThrow(/instead of a verdict/);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
});

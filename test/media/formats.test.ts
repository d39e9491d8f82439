import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOC_MIME, DOCX_MIME, sniffFile } from '../../src/media/formats';
import { compoundFile, docx, elf, gif, jpeg, mp4, pdf, png, wav, webp, zip } from './files';

describe('media type sniffing', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sniff-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sniff = async (bytes: Buffer, name = 'upload.bin') => {
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}-${name}`);
    writeFileSync(file, bytes);
    return sniffFile(file);
  };

  it.each([
    ['PNG', png, 'image', 'image/png'],
    ['JPEG', jpeg, 'image', 'image/jpeg'],
    ['GIF', gif, 'image', 'image/gif'],
    ['WebP', webp, 'image', 'image/webp'],
  ] as const)('knows %s from its bytes', async (_name, make, type, mime) => {
    expect(await sniff(await make())).toMatchObject({ type, mime });
  });

  it('knows WAV, MP4, PDF and DOCX from their bytes', async () => {
    expect(await sniff(wav())).toMatchObject({ type: 'audio', mime: 'audio/wav' });
    expect(await sniff(mp4())).toMatchObject({ type: 'video', mime: 'video/mp4' });
    expect(await sniff(pdf())).toMatchObject({ type: 'document', mime: 'application/pdf' });
    expect(await sniff(docx())).toMatchObject({ type: 'document', mime: DOCX_MIME, ext: 'docx' });
  });

  it('takes a compound file as DOC only when it holds a WordDocument stream', async () => {
    expect(await sniff(compoundFile(['Root Entry', 'WordDocument', '1Table']))).toMatchObject({ type: 'document', mime: DOC_MIME });
    expect(await sniff(compoundFile(['Root Entry', 'Workbook']))).toBeNull();
  });

  it('refuses an executable whatever its name, a plain ZIP and text', async () => {
    expect(await sniff(elf(), 'menu.jpg')).toBeNull();
    expect(await sniff(zip({ 'readme.txt': 'hello' }), 'menu.docx')).toBeNull();
    expect(await sniff(Buffer.from('just some text, not a picture'), 'photo.png')).toBeNull();
  });
});

/** The multipart/form-data parser on hand-written bodies, including the awkward parts of RFC 7578/2046. */
import { describe, expect, it } from 'vitest';
import { headerParam, parseMultipart } from '../../../gateway/http/multipart.ts';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'));

describe('parseMultipart', () => {
  it('parses files and fields, with quoted boundaries, a preamble, filename* and binary content', () => {
    const bin = Buffer.from([0, 1, 2, 13, 10, 45, 45, 255]);
    const body = Buffer.concat([
      crlf(['this is a preamble', '--a"b', 'Content-Disposition: form-data; name="force"', '', 'true', '--a"b', 'Content-Disposition: form-data; name="photos"; filename="x.jpg"; filename*=UTF-8\'\'gr%C3%A2ce.jpg', 'Content-Type: image/jpeg', '', '']),
      bin,
      crlf(['', '--a"b', 'content-disposition: form-data; name="photos"; filename="say \\"hi\\".png"', '', 'png', '--a"b--', 'epilogue']),
    ]);
    const parts = parseMultipart(body, 'multipart/form-data; boundary="a\\"b"');
    expect(parts.map((p) => [p.name, p.filename, p.contentType])).toEqual([
      ['force', null, null],
      ['photos', 'grâce.jpg', 'image/jpeg'],
      ['photos', 'say "hi".png', null],
    ]);
    expect(parts[0].data.toString()).toBe('true');
    expect(parts[1].data.equals(bin)).toBe(true);
  });

  it('refuses malformed bodies and too many parts', () => {
    const ct = 'multipart/form-data; boundary=XyZ';
    expect(() => parseMultipart(Buffer.from('hello'), 'multipart/form-data')).toThrow(/boundary/);
    expect(() => parseMultipart(Buffer.from('no boundary here'), ct)).toThrow(/no boundary line/);
    expect(() => parseMultipart(crlf(['--XyZ', 'Content-Disposition: form-data; name="a"', '', 'unterminated']), ct)).toThrow(/closing boundary/);
    expect(() => parseMultipart(crlf(['--XyZ', 'Content-Type: text/plain', '', 'x', '--XyZ--']), ct)).toThrow(/form-data/);
    const many = crlf([...Array.from({ length: 3 }, () => ['--XyZ', 'Content-Disposition: form-data; name="a"', '', 'x']).flat(), '--XyZ--']);
    expect(parseMultipart(many, ct, { maxParts: 3 })).toHaveLength(3);
    expect(() => parseMultipart(many, ct, { maxParts: 2 })).toThrow(/more than 2 parts/);
  });

  it('reads header parameters, quoted or not', () => {
    expect(headerParam('form-data; name=photos; filename="a;b.jpg"', 'filename')).toBe('a;b.jpg');
    expect(headerParam('form-data; name=photos', 'name')).toBe('photos');
    expect(headerParam('form-data; filename="x"', 'name')).toBeNull();
  });
});

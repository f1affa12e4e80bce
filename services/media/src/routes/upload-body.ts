import { AppError, badRequest, validationFailed } from '@galion/kit';
import busboy from 'busboy';
import type { Request } from 'express';

/** What a multipart body may carry besides its file: the boundaries and part headers. */
export const MULTIPART_OVERHEAD_BYTES = 16_384;

export const payloadTooLarge = (maxBytes: number) =>
  new AppError(413, 'payload_too_large', `The image is larger than the limit of ${maxBytes} bytes.`, {
    // The rest of the body is not read: the connection cannot carry another request.
    headers: { Connection: 'close' },
  });

const notAnUpload = () =>
  new AppError(
    415,
    'unsupported_media_type',
    'Send the image as the request body with its type (Content-Type: image/jpeg, image/png, image/webp, image/gif or image/avif), or as multipart/form-data with one part named file.',
  );

const incomplete = () => badRequest('bad_request', 'The request body was incomplete.');
const noFile = () =>
  validationFailed([{ path: 'body.file', message: 'is required: one part named file holding the image', code: 'required' }]);
const empty = () => validationFailed([{ path: 'body', message: 'is empty: send the image’s bytes', code: 'too_small' }]);

/**
 * Reads an upload's image into memory, never more than `maxBytes` of it: a body whose
 * Content-Length says it is larger is refused before a byte is read, and one that passes the
 * limit while it streams is refused at once (413 payload_too_large), the rest left unread. The
 * image is the raw body (any image/* type: the format is told by the bytes later) or the one part
 * named `file` of a multipart/form-data body; other text fields are ignored.
 */
export const readUpload = (req: Request, maxBytes: number): Promise<Buffer> => {
  const multipart = req.is('multipart/form-data') === 'multipart/form-data';
  if (!multipart && !req.is('image/*')) {
    if (req.get('content-length') === '0' || (req.get('content-length') === undefined && req.get('transfer-encoding') === undefined)) {
      throw empty();
    }
    throw notAnUpload();
  }
  const declared = req.get('content-length');
  if (declared !== undefined && Number(declared) > maxBytes + (multipart ? MULTIPART_OVERHEAD_BYTES : 0)) throw payloadTooLarge(maxBytes);
  return multipart ? readMultipart(req, maxBytes) : readRaw(req, maxBytes);
};

/** Stops reading the request: what is left of its body stays in the socket, which closes after the answer. */
const stopReading = (req: Request): void => {
  req.pause();
  req.removeAllListeners('data');
};

const readRaw = (req: Request, maxBytes: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onError);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        stopReading(req);
        settle(() => reject(payloadTooLarge(maxBytes)));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => settle(() => (size === 0 ? reject(empty()) : resolve(Buffer.concat(chunks, size))));
    const onClose = () => settle(() => reject(incomplete()));
    const onError = () => settle(() => reject(incomplete()));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.once('error', onError);
  });

const readMultipart = (req: Request, maxBytes: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { files: 1, fileSize: maxBytes, fields: 20, fieldSize: 1_024, parts: 21, headerPairs: 20 },
      });
    } catch (error) {
      reject(badRequest('malformed_multipart', `The multipart body cannot be read: ${(error as Error).message}.`));
      return;
    }
    let file: Buffer | undefined;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      req.off('close', onClose);
      outcome();
    };
    const abandon = (error: AppError) => {
      req.unpipe(parser);
      stopReading(req);
      parser.removeAllListeners();
      // The parser may still report what it held (busboy emits a malformed part's error again):
      // unheard, an 'error' event would end the process.
      parser.on('error', () => undefined);
      settle(() => reject(error));
    };
    const onClose = () => {
      if (!req.complete) abandon(incomplete());
    };
    parser.on('file', (name, stream) => {
      if (name !== 'file') {
        stream.resume();
        abandon(
          validationFailed([
            { path: `body.${name}`, message: 'is not a known part: send the image in a part named file', code: 'unknown_field' },
          ]),
        );
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        chunks.push(chunk);
      });
      stream.once('limit', () => abandon(payloadTooLarge(maxBytes)));
      stream.once('end', () => {
        if (!settled) file = Buffer.concat(chunks, size);
      });
    });
    parser.once('filesLimit', () => abandon(validationFailed([{ path: 'body.file', message: 'must be sent once', code: 'too_big' }])));
    parser.once('partsLimit', () => abandon(badRequest('malformed_multipart', 'The multipart body has too many parts.')));
    parser.once('fieldsLimit', () => abandon(badRequest('malformed_multipart', 'The multipart body has too many fields.')));
    parser.once('error', (error: Error) =>
      abandon(badRequest('malformed_multipart', `The multipart body cannot be read: ${error.message}.`)),
    );
    parser.once('close', () => {
      if (!file) settle(() => reject(noFile()));
      else if (file.length === 0) settle(() => reject(empty()));
      else settle(() => resolve(file!));
    });
    req.once('close', onClose);
    req.pipe(parser);
  });

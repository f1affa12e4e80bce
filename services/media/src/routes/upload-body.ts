import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { AppError, badRequest, validationFailed } from '@galion/kit';
import busboy from 'busboy';
import type { Request } from 'express';
import { temporaryStorageUnavailable } from '../storage/temp-files.js';

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

/** The bytes of the image as they arrive, written to a file with backpressure on their source. */
interface BodyFile {
  write(chunk: Buffer, source: Readable): void;
  /** Resolves once every byte written is in the file. */
  finish(): Promise<void>;
  /** Stops writing; resolves once the file is closed, so that its removal leaves nothing open. */
  discard(): Promise<void>;
}

/**
 * What a body may hold in memory on its way to its file: the request is paused past it, so the
 * socket's reads do not wait on the disk's for every chunk, and memory stays bounded whatever the size.
 */
const WRITE_BUFFER_BYTES = 262_144;

/** `path` is made anew (a name already taken is an error); a failure to write it is reported to `onError` once. */
const bodyFile = (path: string, onError: (error: AppError) => void): BodyFile => {
  const file = createWriteStream(path, { flags: 'wx', highWaterMark: WRITE_BUFFER_BYTES });
  let failure: AppError | undefined;
  file.once('error', (error) => {
    failure = temporaryStorageUnavailable(error);
    onError(failure);
  });
  const closed = new Promise<void>((resolve) => file.once('close', resolve));
  return {
    write(chunk, source) {
      if (file.write(chunk)) return;
      source.pause();
      file.once('drain', () => source.resume());
    },
    async finish() {
      file.end();
      await closed;
      if (failure) throw failure;
    },
    async discard() {
      file.removeAllListeners('drain');
      file.destroy();
      await closed;
    },
  };
};

/**
 * Writes an upload's image to the file `path`, never more than `maxBytes` of it, without holding it
 * in memory: a body whose Content-Length says it is larger is refused before a byte is read, and
 * one that passes the limit while it streams is refused at once (413 payload_too_large), the rest
 * left unread. The image is the raw body (any image/* type: the format is told by the bytes later)
 * or the one part named `file` of a multipart/form-data body; other text fields are ignored. When
 * it is refused, the file is closed before the promise settles (the caller removes it).
 */
export const readUpload = (req: Request, maxBytes: number, path: string): Promise<void> => {
  const multipart = req.is('multipart/form-data') === 'multipart/form-data';
  if (!multipart && !req.is('image/*')) {
    if (req.get('content-length') === '0' || (req.get('content-length') === undefined && req.get('transfer-encoding') === undefined)) {
      throw empty();
    }
    throw notAnUpload();
  }
  const declared = req.get('content-length');
  if (declared !== undefined && Number(declared) > maxBytes + (multipart ? MULTIPART_OVERHEAD_BYTES : 0)) throw payloadTooLarge(maxBytes);
  return multipart ? readMultipart(req, maxBytes, path) : readRaw(req, maxBytes, path);
};

/** Stops reading the request: what is left of its body stays in the socket, which closes after the answer. */
const stopReading = (req: Request): void => {
  req.pause();
  req.removeAllListeners('data');
};

const readRaw = (req: Request, maxBytes: number, path: string): Promise<void> =>
  new Promise((resolve, reject) => {
    let size = 0;
    let settled = false;
    const detach = () => {
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
    };
    const refuse = (error: AppError) => {
      if (settled) return;
      detach();
      stopReading(req);
      void file.discard().then(() => reject(error));
    };
    const file = bodyFile(path, refuse);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) refuse(payloadTooLarge(maxBytes));
      else file.write(chunk, req);
    };
    const onEnd = () => {
      if (size === 0) return refuse(empty());
      if (settled) return;
      detach();
      file.finish().then(resolve, reject);
    };
    const onClose = () => refuse(incomplete());
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.once('error', onClose);
  });

const readMultipart = (req: Request, maxBytes: number, path: string): Promise<void> =>
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
    let file: BodyFile | undefined;
    let size = 0;
    let settled = false;
    const settle = () => {
      settled = true;
      req.off('close', onClose);
    };
    const abandon = (error: AppError) => {
      if (settled) return;
      settle();
      req.unpipe(parser);
      stopReading(req);
      parser.removeAllListeners();
      // The parser may still report what it held (busboy emits a malformed part's error again):
      // unheard, an 'error' event would end the process.
      parser.on('error', () => undefined);
      void (file?.discard() ?? Promise.resolve()).then(() => reject(error));
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
      const written = bodyFile(path, abandon);
      file = written;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        written.write(chunk, stream);
      });
      stream.once('limit', () => abandon(payloadTooLarge(maxBytes)));
    });
    parser.once('filesLimit', () => abandon(validationFailed([{ path: 'body.file', message: 'must be sent once', code: 'too_big' }])));
    parser.once('partsLimit', () => abandon(badRequest('malformed_multipart', 'The multipart body has too many parts.')));
    parser.once('fieldsLimit', () => abandon(badRequest('malformed_multipart', 'The multipart body has too many fields.')));
    parser.once('error', (error: Error) =>
      abandon(badRequest('malformed_multipart', `The multipart body cannot be read: ${error.message}.`)),
    );
    // After the file part's end: busboy closes once its file streams have ended.
    parser.once('close', () => {
      if (!file) abandon(noFile());
      else if (size === 0) abandon(empty());
      else if (!settled) {
        settle();
        file.finish().then(resolve, reject);
      }
    });
    req.once('close', onClose);
    req.pipe(parser);
  });

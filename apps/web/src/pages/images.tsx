/**
 * `/images` (docs/media.md): upload an image, chosen or dropped; my images newest first as a grid of
 * thumbnails growing with "More", each with its size, Delete and "Use as my avatar"; and what I keep
 * against my quota. A script of its own, fetched when the page is first opened.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { Link } from 'wouter';
import { apiBlob } from '../api';
import { Fetched, GrowingItems, useApi, useGrowingList } from '../data';
import {
  deleteImage,
  formatBytes,
  IMAGE_FORMATS,
  IMAGE_TYPES,
  MAX_UPLOAD_BYTES,
  mediaPaths,
  readAvatar,
  removeAvatar,
  setAvatar,
  uploadImage,
} from '../media-api';
import type { Media, MediaList, MediaStats } from '../types';
import { ConfirmButton, ErrorMessage, FilePicker, FormError, Page, plural } from '../ui';

const pickImages = (answer: MediaList): Media[] => answer.items;

/** One quota as a labelled meter: amber past three quarters, red past nine tenths. */
const UsageMeter = ({ label, value, max, text }: { label: string; value: number; max: number; text: string }) => {
  const id = useId();
  return (
    <div className="usage-meter">
      <label htmlFor={id}>{label}</label>
      <meter id={id} min={0} max={max} value={value} low={max * 0.75} high={max * 0.9} optimum={0} />
      <span>{text}</span>
    </div>
  );
};

const Usage = ({ stats }: { stats: MediaStats }) => (
  <div className="usage">
    <UsageMeter
      label="Images"
      value={stats.files}
      max={stats.quota.files}
      text={`${plural(stats.files, 'image', 'images')} of ${stats.quota.files.toLocaleString()}`}
    />
    <UsageMeter
      label="Storage"
      value={stats.bytes}
      max={stats.quota.bytes}
      text={`${formatBytes(stats.bytes)} of ${formatBytes(stats.quota.bytes)}`}
    />
  </div>
);

/** An image's small thumbnail, through a URL that reads it without a token for a few minutes. */
/**
 * The small thumbnail, read through the API with the token and shown from memory: the same in
 * every mode, where a presigned URL would point at the object store's own address (plain http on
 * a developer's machine, which the page's CSP refuses).
 */
const Thumbnail = ({ media }: { media: Media }) => {
  const [source, setSource] = useState<string>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let objectUrl: string | undefined;
    let gone = false;
    apiBlob(mediaPaths.content(media.id, 'small')).then(
      (blob) => {
        if (gone) return;
        objectUrl = URL.createObjectURL(blob);
        setSource(objectUrl);
      },
      (caught: unknown) => !gone && setError(caught),
    );
    return () => {
      gone = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [media.id]);
  const { width, height } = media.sizes.small;
  const uploaded = new Date(media.created_at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
  if (error) return <ErrorMessage error={error} />;
  return source ? (
    <img src={source} alt={`Your image uploaded ${uploaded}`} width={width} height={height} />
  ) : (
    <span className="thumbnail-placeholder" aria-hidden="true" />
  );
};

const ImageCard = ({
  media,
  isAvatar,
  onAvatar,
  onDeleted,
}: {
  media: Media;
  isAvatar: boolean;
  onAvatar: (avatar: string | null) => void;
  onDeleted: () => void;
}) => {
  const captionId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const toggleAvatar = async () => {
    if (busy) return;
    setBusy(true);
    setError(undefined);
    try {
      if (isAvatar) await removeAvatar();
      else await setAvatar(media.id);
      onAvatar(isAvatar ? null : media.id);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <figure className="image-card">
      <Thumbnail media={media} />
      <figcaption id={captionId}>
        {media.content_type.replace('image/', '').toUpperCase()}, {media.width} × {media.height}, {formatBytes(media.bytes)}
        {isAvatar ? <span className="badge ok">your avatar</span> : null}
      </figcaption>
      <div className="actions">
        {/* One button whose label changes, never disabled (that would drop it from the focus): the focus stays on it. */}
        <button type="button" className="secondary" aria-describedby={captionId} aria-disabled={busy} onClick={() => void toggleAvatar()}>
          {busy ? 'Please wait…' : isAvatar ? 'Stop using as my avatar' : 'Use as my avatar'}
        </button>
        <ConfirmButton
          label="Delete"
          question="Delete this image for good?"
          yes="Yes, delete it"
          action={async () => {
            await deleteImage(media.id);
            onDeleted();
          }}
        />
      </div>
      <ErrorMessage error={error} />
    </figure>
  );
};

export const ImagesPage = () => {
  const [statsVersion, setStatsVersion] = useState(0);
  const stats = useApi<MediaStats>(mediaPaths.stats, statsVersion);
  const list = useGrowingList(mediaPaths.list, pickImages);
  // The avatar's image id: undefined while it is read, null when none is set.
  const [avatar, setAvatarId] = useState<string | null>();
  const [avatarError, setAvatarError] = useState<unknown>();
  const [uploading, setUploading] = useState<string>();
  const [uploadError, setUploadError] = useState<unknown>();
  const [note, setNote] = useState<string>();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    readAvatar().then((found) => setAvatarId(found?.image_id ?? null), setAvatarError);
  }, []);

  const upload = async (file: File) => {
    setNote(undefined);
    if (uploading) {
      setUploadError(new FormError(`Wait a moment: ${uploading} is still being uploaded.`));
      return;
    }
    setUploadError(undefined);
    setUploading(file.name);
    try {
      const media = await uploadImage(file);
      list.update((items) => [media, ...items]);
      setStatsVersion((v) => v + 1);
      setNote(`${file.name} is uploaded: ${media.width} × ${media.height} pixels.`);
    } catch (caught) {
      setUploadError(caught);
    } finally {
      setUploading(undefined);
    }
  };

  return (
    <Page title="My images">
      <p className="hint">
        Only you see your images, except the one you choose as your avatar, which anyone may see. Your avatar is on{' '}
        <Link href="/profile">your profile</Link>.
      </p>
      <FilePicker
        label="Upload an image"
        hint={`Choose a file, or drop it here: ${IMAGE_FORMATS}, up to ${formatBytes(MAX_UPLOAD_BYTES)}. Its metadata (the place, the camera) is removed.`}
        accept={IMAGE_TYPES.join(',')}
        onFile={(file) => void upload(file)}
      />
      <div role="status" aria-live="polite">
        {uploading ? <p className="loading">Uploading {uploading}…</p> : note ? <p>{note}</p> : null}
      </div>
      <ErrorMessage error={uploadError} />

      <h2>What I keep</h2>
      <Fetched state={stats} what="your usage">
        {(data) => <Usage stats={data} />}
      </Fetched>

      <h2 ref={heading} tabIndex={-1}>
        My images
      </h2>
      <ErrorMessage error={avatarError} />
      <GrowingItems list={list} what="your images" more="More images" empty={<p>You have no images yet. Upload one above.</p>}>
        {(items) => (
          <ul className="image-grid">
            {items.map((media) => (
              <li key={media.id}>
                <ImageCard
                  media={media}
                  isAvatar={avatar === media.id}
                  onAvatar={(id) => {
                    setAvatarId(id);
                    setNote(id ? 'This image is your avatar now: your profile shows it in a moment.' : 'You have no avatar now.');
                  }}
                  onDeleted={() => {
                    list.update((all) => all.filter((m) => m.id !== media.id));
                    // Deleting the avatar's image clears the avatar.
                    if (avatar === media.id) setAvatarId(null);
                    setStatsVersion((v) => v + 1);
                    setNote('The image is deleted.');
                    // Its buttons are gone with it: the focus goes to the list's heading.
                    heading.current?.focus();
                  }}
                />
              </li>
            ))}
          </ul>
        )}
      </GrowingItems>
    </Page>
  );
};

export default ImagesPage;

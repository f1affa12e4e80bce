import { useState } from 'react';
import { avatarSource } from './media-api';

/** The first letters of a name's first two words: "AL" for Ada Lovelace. */
const initials = (name: string | null): string =>
  (name ?? '')
    .split(/\s+/)
    .filter((word) => word !== '')
    .slice(0, 2)
    .map((word) => [...word][0]!.toUpperCase())
    .join('');

/**
 * A person's picture (a profile's `avatar_url`), or their initials in a circle when they have none
 * or it does not load (an avatar cleared a moment ago, a dead link). The initials are decorative:
 * the name is always beside them.
 */
export const Avatar = ({
  url,
  name,
  alt = '',
  large = false,
}: {
  url: string | null;
  name: string | null;
  alt?: string;
  large?: boolean;
}) => {
  const [failed, setFailed] = useState<string>();
  const className = large ? 'avatar' : 'avatar small';
  if (url && failed !== url) {
    const pixels = large ? 96 : 40;
    return (
      <img className={className} src={avatarSource(url, !large)} alt={alt} width={pixels} height={pixels} onError={() => setFailed(url)} />
    );
  }
  return (
    <span className={`${className} initials`} aria-hidden="true">
      {initials(name)}
    </span>
  );
};

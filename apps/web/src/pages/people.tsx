/**
 * A user's page (`/users/:id`): the profile as the API shows it to the caller, the follow counts,
 * Follow or Unfollow, and their published posts; and the lists of their followers and of whom they
 * follow (docs/users.md, "Follows").
 */
import { useCallback, useEffect, useState } from 'react';
import { Link } from 'wouter';
import { ApiError } from '../api';
import { Avatar } from '../avatar';
import { follow, followOf, paths, unfollow } from '../content-api';
import { GrowingItems, useApi, useGrowingList } from '../data';
import { UNNAMED, useSessionKnown, useUserName } from '../names';
import { useSession } from '../session';
import type { FollowEntry, FollowList, PostList, PostSummary, PublicProfile } from '../types';
import { ErrorMessage, Loading, Page, plural } from '../ui';
import { PostCards, When } from './posts';

const pickPosts = (answer: PostList): PostSummary[] => answer.items;
const pickEntries = (answer: FollowList): FollowEntry[] => answer.items;

/** Follow or Unfollow, from whether the caller follows `userId` now. */
const FollowButton = ({ userId, onChange }: { userId: string; onChange: () => void }) => {
  const [following, setFollowing] = useState<boolean>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let current = true;
    followOf(userId).then(
      (found) => current && setFollowing(found !== null),
      (caught: unknown) => current && setError(caught),
    );
    return () => {
      current = false;
    };
  }, [userId]);
  const toggle = async () => {
    setBusy(true);
    setError(undefined);
    try {
      if (following) await unfollow(userId);
      else await follow(userId);
      setFollowing(!following);
      onChange();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="follow">
      {following === undefined && !error ? <Loading what="whether you follow them" /> : null}
      {following !== undefined ? (
        <p className="buttons">
          <button type="button" className={following ? 'secondary' : undefined} onClick={() => void toggle()} disabled={busy}>
            {busy ? 'Please wait…' : following ? 'Unfollow' : 'Follow'}
          </button>
          <span role="status">{following ? 'You follow them: their new posts are in your home feed.' : ''}</span>
        </p>
      ) : null}
      <ErrorMessage error={error} />
    </div>
  );
};

/** `/users/:id`. */
export const UserPage = ({ id }: { id: string }) => {
  const { state } = useSession();
  const me = state.status === 'signed-in' ? state.user : undefined;
  const [version, setVersion] = useState(0);
  const profile = useApi<PublicProfile>(me ? paths.user(id) : undefined, version);
  const posts = useGrowingList(useSessionKnown() ? paths.posts({ author: id }) : undefined, pickPosts);
  const reread = useCallback(() => setVersion((v) => v + 1), []);
  const hidden = profile.error instanceof ApiError && profile.error.code === 'user_not_found';
  const data = profile.data;
  return (
    <Page title={data?.name ?? (hidden ? 'A private profile' : 'Profile')}>
      {state.status === 'signed-out' ? (
        <p>
          <Link href={`/login?next=${encodeURIComponent(`/users/${id}`)}`}>Log in</Link> to see who this is and to follow them.
        </p>
      ) : null}
      {hidden ? (
        <p role="note">
          This profile is not public, or there is no such account: its name and bio are not shown. Published posts are public, so theirs are
          below.
        </p>
      ) : profile.error ? (
        <ErrorMessage error={profile.error} />
      ) : null}
      {profile.loading && !data ? <Loading what="the profile" /> : null}
      {data ? (
        <div className="person">
          <Avatar url={data.avatar_url} name={data.name} large />
          <div>
            {data.bio ? <p className="bio">{data.bio}</p> : <p className="hint">No bio.</p>}
            <ul className="counts" aria-label="Follows">
              <li>
                <Link href={`/users/${id}/followers`}>{plural(data.followers_count, 'follower', 'followers')}</Link>
              </li>
              <li>
                <Link href={`/users/${id}/following`}>{`follows ${plural(data.following_count, 'person', 'people')}`}</Link>
              </li>
            </ul>
          </div>
        </div>
      ) : null}
      {me && me.id === id ? (
        <p>
          This is you. <Link href="/profile">Edit my profile</Link>
        </p>
      ) : null}
      {me && me.id !== id ? <FollowButton userId={id} onChange={reread} /> : null}
      <h2>Posts</h2>
      <GrowingItems list={posts} what="the posts" more="More posts" empty={<p>No published posts yet.</p>}>
        {(items) => <PostCards posts={items} level={3} />}
      </GrowingItems>
    </Page>
  );
};

/** `/users/:id/followers` and `/users/:id/following`, newest follow first. */
export const FollowsPage = ({ id, direction }: { id: string; direction: 'followers' | 'following' }) => {
  const name = useUserName(id);
  const who = name ?? UNNAMED;
  const list = useGrowingList(paths.follows(id, direction), pickEntries);
  const title =
    name === undefined
      ? direction === 'followers'
        ? 'Followers'
        : 'Following'
      : direction === 'followers'
        ? `Followers of ${who}`
        : `Whom ${who} follows`;
  return (
    <Page title={title}>
      <nav className="subnav" aria-label="This person">
        <Link href={`/users/${id}`}>Profile</Link>
        <Link href={`/users/${id}/followers`} aria-current={direction === 'followers' ? 'page' : undefined}>
          Followers
        </Link>
        <Link href={`/users/${id}/following`} aria-current={direction === 'following' ? 'page' : undefined}>
          Following
        </Link>
      </nav>
      <GrowingItems
        list={list}
        what={direction === 'followers' ? 'the followers' : 'whom they follow'}
        more="More people"
        empty={<p>{direction === 'followers' ? 'Nobody follows them yet.' : 'They follow nobody yet.'}</p>}
      >
        {(entries) => (
          <ul className="people">
            {entries.map((entry) => (
              <li key={entry.id}>
                <Avatar url={entry.avatar_url} name={entry.name} />
                <Link href={`/users/${entry.id}`}>{entry.name ?? 'A private profile'}</Link>
                <span className="hint">
                  since <When at={entry.followed_at} />
                </span>
              </li>
            ))}
          </ul>
        )}
      </GrowingItems>
    </Page>
  );
};

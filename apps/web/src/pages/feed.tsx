/**
 * The feeds (docs/feed.md): the signed-in user's home feed (new posts of the people they follow,
 * comments on their own posts) and the global feed of everyone's recent posts and comments, newest
 * first, growing with "More".
 */
import type { ReactNode } from 'react';
import { Link } from 'wouter';
import { paths } from '../content-api';
import { GrowingItems, useGrowingList } from '../data';
import { usePostTitle, useSessionKnown, UserLink } from '../names';
import { useSession } from '../session';
import type { FeedEntry, FeedPage } from '../types';
import { Page } from '../ui';
import { TagLinks, When } from './posts';

const pickEntries = (answer: FeedPage): FeedEntry[] => answer.items;

/** The post a comment is on, by its title (read once), or "your post" when it is the reader's own. */
const CommentedPost = ({ entry, mine }: { entry: FeedEntry; mine: boolean }) => {
  const title = usePostTitle(entry.post_id);
  const name = title === undefined ? 'a post' : title === null ? 'a post that is no longer there' : `“${title}”`;
  return (
    <Link href={`/posts/${entry.post_id}${entry.comment_id ? `#comment-${entry.comment_id}` : ''}`}>
      {mine ? (title ? `your post “${title}”` : 'your post') : name}
    </Link>
  );
};

const FeedItem = ({ entry, me }: { entry: FeedEntry; me: string | undefined }) => (
  <article className={`feed-entry ${entry.kind}`}>
    {entry.kind === 'post' ? (
      <p>
        <UserLink id={entry.actor_id} /> published <Link href={`/posts/${entry.post_id}`}>{entry.title ?? 'a post'}</Link>
      </p>
    ) : (
      <p>
        <UserLink id={entry.actor_id} /> commented on <CommentedPost entry={entry} mine={me !== undefined && entry.post_author_id === me} />
      </p>
    )}
    <p className="byline">
      <When at={entry.time} />
    </p>
    {entry.kind === 'post' ? <TagLinks tags={entry.tags} /> : null}
  </article>
);

const Feed = ({ path, empty }: { path: string | undefined; empty: ReactNode }) => {
  const { state } = useSession();
  const list = useGrowingList(path, pickEntries);
  const me = state.status === 'signed-in' ? state.user.id : undefined;
  return (
    <GrowingItems list={list} what="the feed" more="Older entries" empty={empty}>
      {(entries) => (
        <ol className="feed">
          {entries.map((entry) => (
            <li key={entry.id}>
              <FeedItem entry={entry} me={me} />
            </li>
          ))}
        </ol>
      )}
    </GrowingItems>
  );
};

const FeedNav = ({ current }: { current: 'home' | 'global' }) => {
  const { state } = useSession();
  return (
    <nav className="subnav" aria-label="Feeds">
      {state.status === 'signed-in' ? (
        <Link href="/feed" aria-current={current === 'home' ? 'page' : undefined}>
          Home feed
        </Link>
      ) : null}
      <Link href="/feed/global" aria-current={current === 'global' ? 'page' : undefined}>
        Global feed
      </Link>
      <Link href="/posts">All posts</Link>
    </nav>
  );
};

/** `/feed`: the signed-in user's home feed. */
export const HomeFeedPage = () => (
  <Page title="Home feed">
    <FeedNav current="home" />
    <p className="hint">New posts of the people you follow, and comments on your posts.</p>
    <Feed
      path={paths.homeFeed}
      empty={
        <p>
          Nothing here yet. Follow people to see their new posts here: find them in the <Link href="/feed/global">global feed</Link> or
          among the <Link href="/posts">posts</Link>. Comments on your posts show here too.
        </p>
      }
    />
  </Page>
);

/** `/feed/global`: everyone's recent posts and comments, for anyone. */
export const GlobalFeedPage = () => (
  <Page title="Global feed">
    <FeedNav current="global" />
    <p className="hint">Everyone’s recent posts and comments.</p>
    <Feed path={useSessionKnown() ? paths.globalFeed : undefined} empty={<p>Nothing has happened yet.</p>} />
  </Page>
);

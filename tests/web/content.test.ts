/**
 * Posts, follows and the feeds in a real browser (Debian's Chromium) against the platform as
 * `npm start` runs it: a draft only its author sees, publishing it, another user following the
 * author and finding the post in their home feed, comments (add, edit, the post's author deleting
 * one), search, tags, the follow lists and unfollowing. Every page is checked with axe-core and
 * photographed (.galion/screenshots).
 */
import type { BrowserContext, Page } from 'playwright-core';
import { newAccount, register as registerThrough, type Account } from './accounts';
import { reloadUntil, webSuite } from './browser';

jest.setTimeout(240_000);

const suite = webSuite();
const { look, violations } = suite;

const register = (page: Page, account: Account): Promise<void> => registerThrough(page, suite.platform.url, account);

/** Lets other signed-in users see the name (profiles are private by default). */
const makePublic = async (page: Page): Promise<void> => {
  await page.getByLabel('Let other signed-in users see my name, bio and avatar').check();
  await page.getByLabel('Bio', { exact: true }).fill('Writes about databases.');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
};

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

const withContexts = async (count: number, run: (...contexts: BrowserContext[]) => Promise<void>): Promise<void> => {
  const contexts = await Promise.all(Array.from({ length: count }, () => suite.browser.newContext()));
  try {
    await run(...contexts);
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
};

/** Whether the gateway routes the feed (the feed service is part of the platform). */
const feedWired = async (): Promise<boolean> => (await fetch(`${suite.platform.url}/api/v1/feed/global`)).status === 200;

describe('posts, follows and feeds in the web app', () => {
  test('when an author writes a draft and publishes it, and a reader follows them, comments and searches, then each sees what they should', async () => {
    const withFeed = await feedWired();
    const word = `zebrafish${Math.random().toString(36).slice(2, 8)}`;
    const title = `Keyset pages with ${word}`;
    const tag = `pages-${Date.now().toString(36)}`;
    await withContexts(3, async (authorContext, readerContext, anonymousContext) => {
      const author = await authorContext.newPage();
      const reader = await readerContext.newPage();
      const alice = newAccount('Alice');
      const bob = newAccount('Bob');
      await register(author, alice);
      await makePublic(author);
      await register(reader, bob);

      // The author writes a draft.
      await nav(author).getByRole('link', { name: 'Write a post' }).click();
      await author.getByRole('heading', { name: 'Write a post' }).waitFor();
      await look(author, 'post-new');
      await author.getByLabel('Title', { exact: true }).fill(title);
      await author.getByLabel('Text', { exact: true }).fill(`Offsets get slow; ${word} do not.\n\nA second paragraph.`);
      await author.getByLabel('Tags', { exact: true }).fill(`postgres, ${tag}`);
      await author.getByRole('button', { name: 'Save as draft' }).click();
      await author.getByRole('heading', { name: title }).waitFor();
      await author.getByText('This is a draft: only its author and admins can see it.').waitFor();
      await look(author, 'post-draft');
      const postUrl = author.url();
      expect(postUrl).toMatch(/\/posts\/[0-9a-f-]{36}$/);

      await nav(author).getByRole('link', { name: 'My posts' }).click();
      await author.getByRole('heading', { name: 'My posts' }).waitFor();
      await author.getByRole('heading', { name: `${title} draft` }).waitFor();
      await look(author, 'my-posts');

      // To the reader the draft does not exist.
      await reader.goto(postUrl);
      await reader.getByRole('alert').getByText('No such post.').waitFor();
      await look(reader, 'post-not-found');
      await reader.goto(`${suite.platform.url}/posts`);
      await reader.getByRole('heading', { name: 'Posts', exact: true }).waitFor();
      await reader
        .getByRole('status')
        .filter({ hasText: /^Loading/ })
        .first()
        .waitFor({ state: 'detached' });
      expect(await reader.getByRole('link', { name: title }).count()).toBe(0);

      // The author publishes it.
      await author.goto(postUrl);
      await author.getByRole('link', { name: 'Edit the post' }).click();
      await author.getByRole('heading', { name: 'Edit the post' }).waitFor();
      await author.getByLabel('Title', { exact: true }).waitFor();
      expect(await author.getByLabel('Tags', { exact: true }).inputValue()).toBe(`postgres, ${tag}`);
      await look(author, 'post-edit');
      await author.getByRole('button', { name: 'Publish' }).click();
      await author.getByRole('heading', { name: title }).waitFor();
      await author.getByRole('heading', { name: 'Comments' }).waitFor();
      expect(await author.getByText('This is a draft').count()).toBe(0);

      // The reader finds it in the list and by its tag, and opens the author's page from it.
      await reader.reload();
      await reader.getByRole('link', { name: title }).waitFor();
      await look(reader, 'posts');
      await reader.getByRole('link', { name: `#${tag}` }).click();
      await reader.getByRole('heading', { name: `Posts tagged #${tag}` }).waitFor();
      await reader.getByRole('link', { name: title }).waitFor();
      await look(reader, 'posts-tagged');
      await reader.getByRole('link', { name: title }).click();
      await reader.getByRole('heading', { name: title }).waitFor();
      await reader.getByText('No comments yet.').waitFor();
      await reader.locator('.post-body').getByText('A second paragraph.').waitFor();
      await look(reader, 'post');

      if (withFeed) {
        await nav(reader).getByRole('link', { name: 'Home feed' }).click();
        await reader.getByRole('heading', { name: 'Home feed' }).waitFor();
        await reader.getByText('Nothing here yet.').waitFor();
        await look(reader, 'home-feed-empty');
        await reader.goBack();
        await reader.getByRole('heading', { name: title }).waitFor();
      }

      await reader.locator('.byline').getByRole('link', { name: alice.name }).click();
      await reader.getByRole('heading', { name: alice.name, level: 1 }).waitFor();
      await reader.getByText('Writes about databases.').waitFor();
      await reader.getByRole('link', { name: '0 followers' }).waitFor();
      await reader.getByRole('heading', { name: title, level: 3 }).waitFor();
      const aliceId = /\/users\/([0-9a-f-]{36})$/.exec(reader.url())![1]!;
      await look(reader, 'user-page');

      // The reader follows the author.
      await reader.getByRole('button', { name: 'Follow', exact: true }).click();
      await reader.getByRole('button', { name: 'Unfollow' }).waitFor();
      await reader.getByRole('link', { name: '1 follower' }).waitFor();
      await look(reader, 'user-page-following');

      // The follow lists. The reader sees their own name in them, private as their profile is.
      await reader.getByRole('link', { name: '1 follower' }).click();
      await reader.getByRole('heading', { name: `Followers of ${alice.name}` }).waitFor();
      await reader.getByRole('link', { name: bob.name }).click();
      await reader.getByRole('heading', { name: bob.name, level: 1 }).waitFor();
      await reader.getByText('This is you.').waitFor();
      await reader.getByRole('link', { name: 'follows 1 person' }).click();
      await reader.getByRole('heading', { name: `Whom ${bob.name} follows` }).waitFor();
      await reader.getByRole('link', { name: alice.name }).waitFor();
      await look(reader, 'following');

      // The author sees a follower whose profile is private: no name.
      await nav(author).getByRole('link', { name: 'My profile' }).click();
      await author.getByRole('link', { name: '1 follower' }).click();
      await author.getByRole('heading', { name: `Followers of ${alice.name}` }).waitFor();
      await author.getByRole('link', { name: 'A private profile' }).waitFor();
      await look(author, 'followers');

      // The post is in the reader's home feed.
      if (withFeed) {
        await nav(reader).getByRole('link', { name: 'Home feed' }).click();
        await reader.getByRole('heading', { name: 'Home feed' }).waitFor();
        const entry = reader.locator('.feed-entry', { hasText: `${alice.name} published ${title}` });
        await reloadUntil('the post in the home feed', reader, async () => (await entry.count()) === 1);
        await look(reader, 'home-feed');
        await entry.getByRole('link', { name: title }).click();
        await reader.getByRole('heading', { name: title }).waitFor();
      } else {
        await reader.goto(postUrl);
        await reader.getByRole('heading', { name: title }).waitFor();
      }

      // The reader comments, and changes the comment.
      await reader.getByLabel('Your comment').fill('Which index does it use?');
      await reader.getByRole('button', { name: 'Post the comment' }).click();
      const comment = reader.locator('article.comment', { hasText: 'Which index does it use?' });
      await comment.waitFor();
      expect(await reader.getByLabel('Your comment').inputValue()).toBe('');
      await comment.getByRole('button', { name: 'Edit' }).click();
      await comment.getByRole('textbox', { name: 'Your comment' }).fill('Which index does it use, the primary key?');
      await look(reader, 'comment-edit');
      await comment.getByRole('button', { name: 'Save the comment' }).click();
      const edited = reader.locator('article.comment', { hasText: 'Which index does it use, the primary key?' });
      await edited.getByText('edited').waitFor();
      await look(reader, 'post-comments');
      await reader.reload();
      await edited.waitFor();

      // The author sees it: on the post, and in their home feed.
      await author.goto(postUrl);
      const seen = author.locator('article.comment', { hasText: 'Which index does it use, the primary key?' });
      await seen.waitFor();
      expect(await seen.getByRole('button', { name: 'Edit' }).count()).toBe(0);
      if (withFeed) {
        await nav(author).getByRole('link', { name: 'Home feed' }).click();
        await author.getByRole('heading', { name: 'Home feed' }).waitFor();
        const entry = author.locator('.feed-entry', { hasText: `commented on your post “${title}”` });
        await reloadUntil('the comment in the author’s home feed', author, async () => (await entry.count()) === 1);
        await look(author, 'home-feed-comment');
        await entry.getByRole('link', { name: `your post “${title}”` }).click();
        await author.getByRole('heading', { name: title }).waitFor();
      } else {
        await author.goto(postUrl);
      }

      // Search finds it, by a word of its text; a word of no post finds nothing.
      await reader.getByRole('searchbox', { name: 'Search posts' }).fill(word);
      await reader.getByRole('search').getByRole('button', { name: 'Find' }).click();
      await reader.getByRole('heading', { name: `Search: ${word}` }).waitFor();
      await reader.getByRole('link', { name: title }).waitFor();
      await look(reader, 'search');
      await reader.getByRole('searchbox', { name: 'Search posts' }).fill(`nothing${word}`);
      await reader.getByRole('searchbox', { name: 'Search posts' }).press('Enter');
      await reader.getByText(`No published post matches “nothing${word}”.`).waitFor();
      await look(reader, 'search-empty');

      // The global feed, for anyone.
      if (withFeed) {
        const anonymous = await anonymousContext.newPage();
        await anonymous.goto(`${suite.platform.url}/feed/global`);
        await anonymous.getByRole('heading', { name: 'Global feed' }).waitFor();
        await reloadUntil(
          'the post in the global feed',
          anonymous,
          async () => (await anonymous.getByRole('link', { name: title }).count()) > 0,
        );
        await look(anonymous, 'global-feed');
      }

      // The reader unfollows: the count drops, and the post leaves their home feed.
      await reader.goto(`${suite.platform.url}/users/${aliceId}`);
      await reader.getByRole('button', { name: 'Unfollow' }).click();
      await reader.getByRole('button', { name: 'Follow', exact: true }).waitFor();
      await reader.getByRole('link', { name: '0 followers' }).waitFor();
      await reader.reload();
      await reader.getByRole('button', { name: 'Follow', exact: true }).waitFor();
      if (withFeed) {
        await reader.goto(`${suite.platform.url}/feed`);
        await reader.getByRole('heading', { name: 'Home feed' }).waitFor();
        await reloadUntil('the post out of the home feed', reader, async () => (await reader.getByText('Nothing here yet.').count()) === 1);
      }

      // The post's author deletes the reader's comment.
      await author.goto(postUrl);
      const toDelete = author.locator('article.comment', { hasText: 'the primary key?' });
      await toDelete.getByRole('button', { name: 'Delete' }).click();
      await toDelete.getByText('Delete this comment for good?').waitFor();
      await look(author, 'comment-delete');
      await toDelete.getByRole('button', { name: 'Yes, delete the comment' }).click();
      await author.getByText('No comments yet.').waitFor();
      await reader.goto(postUrl);
      await reader.getByText('No comments yet.').waitFor();

      // The author deletes the post: it leaves their posts, and the reader finds it no more.
      await author.getByRole('button', { name: 'Delete the post' }).click();
      await author.getByRole('button', { name: 'Yes, delete the post' }).click();
      await author.getByRole('heading', { name: 'My posts' }).waitFor();
      await author.getByText('You have not written a post yet.').waitFor();
      await look(author, 'my-posts-empty');
      await reader.reload();
      await reader.getByRole('alert').getByText('No such post.').waitFor();
    });
  });

  test('when a signed-out visitor opens posts and a user page, then they read and are asked to log in to write, comment or follow', async () => {
    await withContexts(1, async (context) => {
      const page = await context.newPage();
      await page.goto(`${suite.platform.url}/posts`);
      await page.getByRole('heading', { name: 'Posts', exact: true }).waitFor();
      await page.getByText('to write a post.').waitFor();
      await page.goto(`${suite.platform.url}/users/0190f5a4-0000-7000-8000-000000000000`);
      await page.getByText('to see who this is and to follow them.').waitFor();
      await page.getByText('No published posts yet.').waitFor();
      await look(page, 'user-page-signed-out');
      await page.goto(`${suite.platform.url}/posts/new`);
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      expect(new URL(page.url()).searchParams.get('next')).toBe('/posts/new');
    });
  });

  test('when the feed answers (its answers made in the browser), then the home feed shows posts and comments, grows with More, and shows the API’s error', async () => {
    // The page against the feed's contract (services/feed/src/schemas.ts), whether or not the platform routes the feed yet.
    await withContexts(1, async (context) => {
      const page = await context.newPage();
      const carol = newAccount('Carol');
      await register(page, carol);
      await page.getByRole('link', { name: 'My page as others see it' }).click();
      await page.getByRole('heading', { name: carol.name, level: 1 }).waitFor();
      const carolId = /\/users\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
      const uuid = (n: number) => `0190f5a4-0000-7000-8000-${String(n).padStart(12, '0')}`;
      const entry = (n: number, kind: 'post' | 'comment', title: string | null) => ({
        id: uuid(100 + n),
        kind,
        actor_id: uuid(200 + n),
        post_id: uuid(300 + n),
        title,
        tags: kind === 'post' ? ['stubbed'] : [],
        comment_id: kind === 'comment' ? uuid(400 + n) : null,
        post_author_id: kind === 'comment' ? carolId : null,
        time: new Date(Date.now() - n * 60_000).toISOString(),
      });
      const asked: string[] = [];
      await page.route('**/api/v1/feed/home*', (route) => {
        const cursor = new URL(route.request().url()).searchParams.get('cursor');
        asked.push(cursor ?? '');
        return route.fulfill({
          json:
            cursor === 'page-2'
              ? { items: [entry(3, 'post', 'An older post')], next_cursor: null }
              : { items: [entry(1, 'post', 'A stubbed post'), entry(2, 'comment', null)], next_cursor: 'page-2' },
        });
      });
      await page.route('**/api/v1/feed/global*', (route) =>
        route.fulfill({
          status: 400,
          json: { error: 'invalid_cursor', message: 'This cursor was not given out by this feed.', request_id: 'req-stubbed' },
        }),
      );

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home feed' }).click();
      await page.getByRole('heading', { name: 'Home feed' }).waitFor();
      await page
        .locator('.feed-entry', { hasText: 'a Galion member published A stubbed post' })
        .getByRole('link', { name: '#stubbed' })
        .waitFor();
      // The commented post is gone (no such post): the entry says so.
      await page.locator('.feed-entry', { hasText: 'a Galion member commented on your post' }).waitFor();
      expect(await page.getByRole('link', { name: 'An older post' }).count()).toBe(0);
      await look(page, 'home-feed-stubbed');
      await page.getByRole('button', { name: 'Older entries' }).click();
      await page.getByRole('link', { name: 'An older post' }).waitFor();
      expect(await page.getByRole('button', { name: 'Older entries' }).count()).toBe(0);
      expect(asked).toEqual(['', 'page-2']);
      expect(await page.locator('.feed-entry').count()).toBe(3);

      await page.getByRole('link', { name: 'Global feed' }).click();
      await page.getByRole('alert').getByText('This cursor was not given out by this feed.').waitFor();
      await page.getByRole('alert').getByText('Request id: req-stubbed').waitFor();
      await look(page, 'global-feed-error');
    });
  });

  test('when every page was checked, then none has a serious or critical accessibility violation', () => {
    expect(violations).toEqual([]);
  });
});

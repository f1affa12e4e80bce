/**
 * Posts (docs/posts.md): the public list (newest first, by tag), one post with its comments, the
 * form that writes or changes a post, the signed-in user's own posts with their drafts, and search.
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useLocation, useSearchParams } from 'wouter';
import { addComment, createPost, deleteComment, deletePost, editComment, parseTags, paths, updatePost } from '../content-api';
import { GrowingItems, useApi, useGrowingList } from '../data';
import { useSessionKnown, UserLink } from '../names';
import { useSession } from '../session';
import type { AuthUser, Comment, CommentList, Post, PostInput, PostList, PostSummary, SearchResults } from '../types';
import { ActionForm, ConfirmButton, ErrorMessage, Field, Loading, Page, TextArea } from '../ui';

const pickPosts = (answer: PostList | SearchResults): PostSummary[] => answer.items;
const pickComments = (answer: CommentList): Comment[] => answer.items;

/** A date and time as the reader's browser writes them, in a <time> element. */
export const When = ({ at }: { at: string }) => (
  <time dateTime={at}>{new Date(at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })}</time>
);

export const TagLinks = ({ tags }: { tags: string[] }) =>
  tags.length > 0 ? (
    <ul className="tags" aria-label="Tags">
      {tags.map((tag) => (
        <li key={tag}>
          <Link href={`/posts?tag=${encodeURIComponent(tag)}`}>#{tag}</Link>
        </li>
      ))}
    </ul>
  ) : null;

const DraftBadge = () => <span className="badge draft">draft</span>;

/** A post in a list: its title (a link to it), author, date, the start of its text and its tags. */
export const PostCard = ({ post, level }: { post: PostSummary; level: 2 | 3 }) => {
  const Heading = level === 2 ? 'h2' : 'h3';
  return (
    <article className="post-card" aria-labelledby={`post-${post.id}`}>
      <Heading id={`post-${post.id}`}>
        <Link href={`/posts/${post.id}`}>{post.title}</Link> {post.published ? null : <DraftBadge />}
      </Heading>
      <p className="byline">
        by <UserLink id={post.author_id} /> · <When at={post.published_at ?? post.created_at} />
      </p>
      <p className="excerpt">
        {post.excerpt}
        {post.excerpt.length >= 280 ? '…' : ''}
      </p>
      <TagLinks tags={post.tags} />
    </article>
  );
};

export const PostCards = ({ posts, level }: { posts: PostSummary[]; level: 2 | 3 }) => (
  <ul className="post-list">
    {posts.map((post) => (
      <li key={post.id}>
        <PostCard post={post} level={level} />
      </li>
    ))}
  </ul>
);

/** `/posts`, `/posts?tag=…`: published posts, newest first. */
export const PostsPage = () => {
  const [params] = useSearchParams();
  const tag = params.get('tag') ?? undefined;
  const { state } = useSession();
  const list = useGrowingList(useSessionKnown() ? paths.posts({ tag }) : undefined, pickPosts);
  return (
    <Page title={tag ? `Posts tagged #${tag}` : 'Posts'}>
      <p className="buttons">
        {tag ? <Link href="/posts">All posts</Link> : null}
        {state.status === 'signed-in' ? (
          <Link href="/posts/new">Write a post</Link>
        ) : state.status === 'signed-out' ? (
          <span>
            <Link href="/login?next=%2Fposts%2Fnew">Log in</Link> to write a post.
          </span>
        ) : null}
      </p>
      <GrowingItems
        list={list}
        what="the posts"
        more="More posts"
        empty={<p>{tag ? `No published post has the tag #${tag} yet.` : 'No posts yet.'}</p>}
      >
        {(posts) => <PostCards posts={posts} level={2} />}
      </GrowingItems>
    </Page>
  );
};

/** `/posts/mine`: the signed-in user's posts, drafts included, newest first. */
export const MyPostsPage = () => {
  const list = useGrowingList(paths.myPosts, pickPosts);
  return (
    <Page title="My posts">
      <p className="buttons">
        <Link href="/posts/new">Write a post</Link>
      </p>
      <p className="hint">Drafts are seen by you (and admins) only.</p>
      <GrowingItems list={list} what="your posts" more="More posts" empty={<p>You have not written a post yet.</p>}>
        {(posts) => <PostCards posts={posts} level={2} />}
      </GrowingItems>
    </Page>
  );
};

/** `/search?q=…`: published posts matching the words, best first. */
export const SearchPage = () => {
  const [params] = useSearchParams();
  const q = (params.get('q') ?? '').trim();
  const list = useGrowingList(useSessionKnown() && q ? paths.search(q) : undefined, pickPosts);
  return (
    <Page title={q ? `Search: ${q}` : 'Search'}>
      {q ? (
        <GrowingItems list={list} what="the results" more="More results" empty={<p>No published post matches “{q}”.</p>}>
          {(posts) => <PostCards posts={posts} level={2} />}
        </GrowingItems>
      ) : (
        <p>
          Type words in the search box above to find posts: all the words must match; “a phrase” in quotes, or, and -word to leave one out
          work too.
        </p>
      )}
    </Page>
  );
};

/** May `user` change or delete this post? Its author and admins. */
const mayChange = (user: AuthUser | undefined, post: Post): boolean =>
  user !== undefined && (user.id === post.author_id || user.role === 'admin');

/** Changed after it was published (or, a draft, after it was written): publishing itself is no edit. */
const edited = (post: Post): boolean =>
  new Date(post.updated_at).getTime() - new Date(post.published_at ?? post.created_at).getTime() > 1000;

/** `/posts/:id`: the post, and its comments under it. */
export const PostPage = ({ id }: { id: string }) => {
  const { state } = useSession();
  const me = state.status === 'signed-in' ? state.user : undefined;
  const [, navigate] = useLocation();
  const post = useApi<Post>(useSessionKnown() ? paths.post(id) : undefined);
  const data = post.data;
  return (
    <Page title={data?.title ?? 'Post'}>
      {post.error ? <ErrorMessage error={post.error} /> : null}
      {post.loading && !data ? <Loading what="the post" /> : null}
      {data ? (
        <>
          {data.published ? null : (
            <p role="note">
              <DraftBadge /> This is a draft: only its author and admins can see it.
            </p>
          )}
          <p className="byline">
            by <UserLink id={data.author_id} /> · <When at={data.published_at ?? data.created_at} />
            {edited(data) ? (
              <>
                {' '}
                · edited <When at={data.updated_at} />
              </>
            ) : null}
          </p>
          <TagLinks tags={data.tags} />
          <div className="post-body">{data.body}</div>
          {mayChange(me, data) ? (
            <div className="buttons">
              <Link href={`/posts/${data.id}/edit`} className="button">
                Edit the post
              </Link>
              <ConfirmButton
                label="Delete the post"
                question="Delete this post and all its comments for good?"
                yes="Yes, delete the post"
                action={async () => {
                  await deletePost(data.id);
                  navigate(me?.id === data.author_id ? '/posts/mine' : '/posts');
                }}
              />
            </div>
          ) : null}
          <Comments post={data} me={me} />
        </>
      ) : null}
    </Page>
  );
};

const Comments = ({ post, me }: { post: Post; me: AuthUser | undefined }) => {
  const list = useGrowingList(paths.comments(post.id), pickComments);
  const [formKey, setFormKey] = useState(0);
  const [note, setNote] = useState<string>();
  // A link to one comment (#comment-…, from a feed) scrolls to it once the comments are there.
  useEffect(() => {
    if (list.loaded && window.location.hash.startsWith('#comment-'))
      document.getElementById(window.location.hash.slice(1))?.scrollIntoView();
  }, [list.loaded]);
  return (
    <section className="comments" aria-labelledby="comments-title">
      <h2 id="comments-title">Comments</h2>
      <GrowingItems list={list} what="the comments" more="More comments" empty={<p>No comments yet.</p>}>
        {(comments) => (
          <ol className="comment-list">
            {comments.map((comment) => (
              <li key={comment.id}>
                <CommentItem
                  comment={comment}
                  post={post}
                  me={me}
                  onChange={(changed) => list.update((items) => items.map((c) => (c.id === changed.id ? changed : c)))}
                  onDelete={() => list.update((items) => items.filter((c) => c.id !== comment.id))}
                />
              </li>
            ))}
          </ol>
        )}
      </GrowingItems>
      {me ? (
        <ActionForm
          key={formKey}
          label="Add a comment"
          submit="Post the comment"
          action={async (form) => {
            setNote(undefined);
            const comment = await addComment(post.id, String(form.get('body') ?? ''));
            // Comments are oldest first: the new one is the last, on this page if it is the last one.
            if (list.hasMore) setNote('Your comment is posted, at the end of the comments.');
            else list.update((items) => [...items, comment]);
            setFormKey((k) => k + 1);
          }}
        >
          <TextArea label="Your comment" name="body" required maxLength={10_000} rows={4} />
        </ActionForm>
      ) : (
        <p>
          <Link href={`/login?next=${encodeURIComponent(`/posts/${post.id}`)}`}>Log in</Link> to comment.
        </p>
      )}
      {note ? <p role="status">{note}</p> : null}
    </section>
  );
};

const CommentItem = ({
  comment,
  post,
  me,
  onChange,
  onDelete,
}: {
  comment: Comment;
  post: Post;
  me: AuthUser | undefined;
  onChange: (comment: Comment) => void;
  onDelete: () => void;
}) => {
  const [editing, setEditing] = useState(false);
  const own = me?.id === comment.author_id;
  // The comment's author, the post's author and admins may delete it; only its author may change it.
  const mayDelete = me !== undefined && (own || me.id === post.author_id || me.role === 'admin');
  return (
    <article className="comment" id={`comment-${comment.id}`}>
      <p className="byline">
        <UserLink id={comment.author_id} /> · <When at={comment.created_at} />
        {comment.updated_at !== comment.created_at ? ' · edited' : null}
      </p>
      {editing ? (
        <ActionForm
          label="Edit your comment"
          submit="Save the comment"
          action={async (form) => {
            onChange(await editComment(post.id, comment.id, String(form.get('body') ?? '')));
            setEditing(false);
          }}
        >
          <TextArea label="Your comment" name="body" defaultValue={comment.body} required maxLength={10_000} rows={4} />
          <p>
            <button type="button" className="secondary" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </p>
        </ActionForm>
      ) : (
        <div className="comment-body">{comment.body}</div>
      )}
      {!editing && (own || mayDelete) ? (
        <div className="actions">
          {own ? (
            <button type="button" className="secondary" onClick={() => setEditing(true)}>
              Edit
            </button>
          ) : null}
          {mayDelete ? (
            <ConfirmButton
              label="Delete"
              question="Delete this comment for good?"
              yes="Yes, delete the comment"
              action={async () => {
                await deleteComment(post.id, comment.id);
                onDelete();
              }}
            />
          ) : null}
        </div>
      ) : null}
    </article>
  );
};

/** The form of a post: title, body, tags; its two buttons publish or keep it a draft. */
const PostForm = ({ post, onSaved }: { post?: Post; onSaved: (post: Post) => void }) => {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    // Enter in a field submits with the first button, which never changes whether the post is published.
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    const published = submitter?.value ? submitter.value === 'publish' : (post?.published ?? false);
    const input: PostInput = {
      title: String(form.get('title') ?? ''),
      body: String(form.get('body') ?? ''),
      tags: parseTags(String(form.get('tags') ?? '')),
      published,
    };
    setBusy(true);
    setError(undefined);
    try {
      onSaved(post ? await updatePost(post.id, input) : await createPost(input));
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };
  const buttons: [string, 'publish' | 'draft', string][] = post?.published
    ? [
        ['Save the changes', 'publish', ''],
        ['Move back to drafts', 'draft', 'secondary'],
      ]
    : [
        [post ? 'Save the draft' : 'Save as draft', 'draft', 'secondary'],
        ['Publish', 'publish', ''],
      ];
  return (
    <form onSubmit={(event) => void onSubmit(event)} aria-label={post ? 'Edit the post' : 'Write a post'} aria-busy={busy}>
      <Field label="Title" name="title" defaultValue={post?.title} required maxLength={500} />
      <TextArea label="Text" name="body" defaultValue={post?.body} required maxLength={100_000} rows={14} />
      <Field
        label="Tags"
        name="tags"
        defaultValue={post?.tags.join(', ')}
        autoComplete="off"
        hint="Up to 10, separated by commas or spaces: lower-case letters, digits and hyphens, such as postgres or web-apps."
      />
      <ErrorMessage error={error} />
      <div className="buttons">
        {buttons.map(([label, value, className]) => (
          <button key={value} type="submit" name="intent" value={value} className={className || undefined} disabled={busy}>
            {busy ? 'Please wait…' : label}
          </button>
        ))}
      </div>
    </form>
  );
};

/** `/posts/new`. */
export const NewPostPage = () => {
  const [, navigate] = useLocation();
  return (
    <Page title="Write a post">
      <p className="hint">A draft is seen by you (and admins) only, until you publish it.</p>
      <PostForm onSaved={(post) => navigate(`/posts/${post.id}`)} />
    </Page>
  );
};

/** `/posts/:id/edit`: its author and admins. */
export const EditPostPage = ({ id, user }: { id: string; user: AuthUser }) => {
  const [, navigate] = useLocation();
  const post = useApi<Post>(paths.post(id));
  let content: ReactNode = null;
  if (post.data) {
    content = mayChange(user, post.data) ? (
      <PostForm post={post.data} onSaved={(saved) => navigate(`/posts/${saved.id}`)} />
    ) : (
      <p role="alert">Only the author of this post or an admin can change it.</p>
    );
  }
  return (
    <Page title="Edit the post">
      {post.error ? <ErrorMessage error={post.error} /> : null}
      {post.loading && !post.data ? <Loading what="the post" /> : null}
      {content}
      <p>
        <Link href={`/posts/${id}`}>Back to the post</Link>
      </p>
    </Page>
  );
};

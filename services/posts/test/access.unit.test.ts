import { changePost, commentOn, deleteComment, editComment, readPost, type Actor } from '../src/domain/access';

const author: Actor = { id: 'a', role: 'user' };
const other: Actor = { id: 'o', role: 'user' };
const admin: Actor = { id: 'x', role: 'admin' };
const published = { authorId: 'a', published: true };
const draft = { authorId: 'a', published: false };

describe('who may read a post', () => {
  it('when it is published, then anyone may, anonymous callers too', () => {
    for (const actor of [author, other, admin, undefined]) expect(readPost(published, actor)).toBe('allowed');
  });

  it('when it is a draft, then its author and admins may, and to anyone else it is hidden (404), never forbidden', () => {
    expect(readPost(draft, author)).toBe('allowed');
    expect(readPost(draft, admin)).toBe('allowed');
    expect(readPost(draft, other)).toBe('hidden');
    expect(readPost(draft, undefined)).toBe('hidden');
  });
});

describe('who may change or delete a post', () => {
  it('when the caller is its author or an admin, then they may', () => {
    expect(changePost(published, author)).toBe('allowed');
    expect(changePost(draft, author)).toBe('allowed');
    expect(changePost(published, admin)).toBe('allowed');
    expect(changePost(draft, admin)).toBe('allowed');
  });

  it('when another user asks, then a published post is forbidden (403) and a draft hidden (404)', () => {
    expect(changePost(published, other)).toBe('forbidden');
    expect(changePost(draft, other)).toBe('hidden');
  });
});

describe('who may comment', () => {
  it('when the post is published, then anyone signed in may', () => {
    for (const actor of [author, other, admin]) expect(commentOn(published, actor)).toBe('allowed');
  });

  it('when it is a draft, then only its author may; an admin sees it but may not comment, others do not see it', () => {
    expect(commentOn(draft, author)).toBe('allowed');
    expect(commentOn(draft, admin)).toBe('forbidden');
    expect(commentOn(draft, other)).toBe('hidden');
  });
});

describe('who may edit or delete a comment', () => {
  const byOther = { authorId: 'o' };

  it('when editing, then only the comment’s author may, not the post’s author nor an admin', () => {
    expect(editComment(published, byOther, other)).toBe('allowed');
    expect(editComment(published, byOther, author)).toBe('forbidden');
    expect(editComment(published, byOther, admin)).toBe('forbidden');
  });

  it('when deleting, then the comment’s author, the post’s author and admins may, a third user may not', () => {
    const third: Actor = { id: 't', role: 'user' };
    expect(deleteComment(published, byOther, other)).toBe('allowed');
    expect(deleteComment(published, byOther, author)).toBe('allowed');
    expect(deleteComment(published, byOther, admin)).toBe('allowed');
    expect(deleteComment(published, byOther, third)).toBe('forbidden');
  });

  it('when the post is a draft the caller may not see, then its comments are hidden too', () => {
    expect(editComment(draft, byOther, other)).toBe('hidden');
    expect(deleteComment(draft, byOther, other)).toBe('hidden');
  });
});

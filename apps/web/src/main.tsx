import { lazy, StrictMode, Suspense, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { Link, Redirect, Route, Switch, useLocation, useSearchParams } from 'wouter';
import { ChangePasswordPage, DeleteAccountPage, ProfilePage } from './pages/profile';
import { ForgotPasswordPage, LoginPage, RegisterPage, ResetPasswordPage, VerifyEmailPage } from './pages/account';
import { GlobalFeedPage, HomeFeedPage } from './pages/feed';
import { FollowsPage, UserPage } from './pages/people';
import { EditPostPage, MyPostsPage, NewPostPage, PostPage, PostsPage, SearchPage } from './pages/posts';
import { SessionProvider, useSession } from './session';
import type { AuthUser } from './types';
import { Loading, Page } from './ui';
import './styles.css';

// The console is a script of its own, fetched only when an admin page is opened; so is the images page.
const AdminConsole = lazy(() => import('./pages/admin'));
const ImagesPage = lazy(() => import('./pages/images'));

/** A page for a signed-in user; anyone else is sent to log in and brought back after. */
const SignedIn = ({ page }: { page: (user: AuthUser) => ReactNode }) => {
  const { state } = useSession();
  const [location] = useLocation();
  if (state.status === 'loading') return <Loading what="your session" />;
  if (state.status === 'signed-out') return <Redirect to={`/login?next=${encodeURIComponent(location)}`} />;
  return <>{page(state.user)}</>;
};

/** The search box of every page: it opens /search?q=…, and shows the words of the search open. */
const SearchBox = () => {
  const [location, navigate] = useLocation();
  const [params] = useSearchParams();
  const current = location === '/search' ? (params.get('q') ?? '') : '';
  return (
    <form
      role="search"
      aria-label="Search posts"
      className="search"
      onSubmit={(event) => {
        event.preventDefault();
        const q = String(new FormData(event.currentTarget).get('q') ?? '').trim();
        if (q) navigate(`/search?q=${encodeURIComponent(q)}`);
      }}
    >
      <label htmlFor="search-q" className="visually-hidden">
        Search posts
      </label>
      <input id="search-q" key={current} name="q" type="search" defaultValue={current} maxLength={200} placeholder="Search posts" />
      {/* Not "Search": the admin console's users table has a Search button of its own. */}
      <button type="submit">Find</button>
    </form>
  );
};

const Header = () => {
  const { state, logout } = useSession();
  const [, navigate] = useLocation();
  return (
    <header className="top">
      <Link href="/" className="brand">
        Galion
      </Link>
      <SearchBox />
      <nav aria-label="Main">
        {state.status === 'signed-in' ? (
          <>
            <Link href="/feed">Home feed</Link>
            <Link href="/posts">Posts</Link>
            <Link href="/posts/new">Write a post</Link>
            <Link href="/posts/mine">My posts</Link>
            <Link href="/images">My images</Link>
            <Link href="/profile">My profile</Link>
            {state.user.role === 'admin' ? <Link href="/admin">Admin console</Link> : null}
            <button
              type="button"
              className="link"
              onClick={() => void logout().finally(() => navigate('/login?reason=logged-out'))}
            >
              Log out
            </button>
          </>
        ) : state.status === 'signed-out' ? (
          <>
            <Link href="/posts">Posts</Link>
            <Link href="/feed/global">Global feed</Link>
            <Link href="/login">Log in</Link>
            <Link href="/register">Create an account</Link>
          </>
        ) : null}
      </nav>
    </header>
  );
};

const App = () => (
  <SessionProvider>
    <Header />
    <main>
      <Switch>
        <Route path="/">
          <Redirect to="/profile" />
        </Route>
        <Route path="/login" component={LoginPage} />
        <Route path="/register" component={RegisterPage} />
        <Route path="/forgot-password" component={ForgotPasswordPage} />
        <Route path="/reset-password" component={ResetPasswordPage} />
        <Route path="/verify-email" component={VerifyEmailPage} />
        <Route path="/profile">
          <SignedIn page={(user) => <ProfilePage user={user} />} />
        </Route>
        <Route path="/images">
          <SignedIn
            page={() => (
              <Suspense fallback={<Loading what="your images" />}>
                <ImagesPage />
              </Suspense>
            )}
          />
        </Route>
        <Route path="/password">
          <SignedIn page={() => <ChangePasswordPage />} />
        </Route>
        <Route path="/delete-account">
          <SignedIn page={(user) => <DeleteAccountPage user={user} />} />
        </Route>
        <Route path="/feed">
          <SignedIn page={() => <HomeFeedPage />} />
        </Route>
        <Route path="/feed/global" component={GlobalFeedPage} />
        <Route path="/posts" component={PostsPage} />
        <Route path="/posts/new">
          <SignedIn page={() => <NewPostPage />} />
        </Route>
        <Route path="/posts/mine">
          <SignedIn page={() => <MyPostsPage />} />
        </Route>
        <Route path="/posts/:id/edit">{({ id }) => <SignedIn page={(user) => <EditPostPage key={id} id={id} user={user} />} />}</Route>
        <Route path="/posts/:id">{({ id }) => <PostPage key={id} id={id} />}</Route>
        <Route path="/search" component={SearchPage} />
        <Route path="/users/:id/followers">{({ id }) => <SignedIn page={() => <FollowsPage key={id} id={id} direction="followers" />} />}</Route>
        <Route path="/users/:id/following">{({ id }) => <SignedIn page={() => <FollowsPage key={id} id={id} direction="following" />} />}</Route>
        <Route path="/users/:id">{({ id }) => <UserPage key={id} id={id} />}</Route>
        <Route path="/admin/*?">
          <SignedIn
            page={(user) => (
              <Suspense fallback={<Loading what="the admin console" />}>
                <AdminConsole user={user} />
              </Suspense>
            )}
          />
        </Route>
        <Route>
          <Page title="Page not found">
            <p>There is no page at this address.</p>
            <Link href="/profile">Go to my profile</Link>
          </Page>
        </Route>
      </Switch>
    </main>
  </SessionProvider>
);

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

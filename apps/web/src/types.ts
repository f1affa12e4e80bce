export interface AuthUser {
  id: string;
  email: string;
  name: string;
  role: 'user' | 'admin';
  email_verified: boolean;
  created_at: string;
}

export interface Profile {
  id: string;
  email: string;
  name: string;
  role: 'user' | 'admin';
  active: boolean;
  bio: string | null;
  avatar_url: string | null;
  locale: string | null;
  timezone: string | null;
  preferences: Record<string, unknown>;
  is_public: boolean;
  created_at: string;
  updated_at: string;
}

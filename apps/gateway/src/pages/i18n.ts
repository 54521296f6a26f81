export type Lang = 'ja' | 'en';

const MESSAGES = {
  ja: {
    signIn: 'サインイン',
    loginId: 'ログインID',
    password: 'パスワード',
    submit: 'サインイン',
    failed: 'ログインIDまたはパスワードが正しくありません。',
    csrf: 'ページの有効期限が切れました。もう一度お試しください。',
    unavailable: 'ただいまサインインできません。しばらくしてからお試しください。',
    account: 'アカウント',
    signedInAs: 'サインイン中のユーザー',
    signOut: 'サインアウト',
    changePassword: 'パスワードの変更',
    mustChange: '初回サインインのため、新しいパスワードを設定してください。',
    currentPassword: '現在のパスワード',
    newPassword: '新しいパスワード',
    confirmPassword: '新しいパスワード（確認）',
    save: '変更する',
    mismatch: '確認用のパスワードが一致しません。',
    changed: 'パスワードを変更しました。',
    notFound: 'ページが見つかりません。',
    passwordHint: '15文字以上。長いフレーズがおすすめです。',
  },
  en: {
    signIn: 'Sign in',
    loginId: 'Login ID',
    password: 'Password',
    submit: 'Sign in',
    failed: 'The login ID or password is incorrect.',
    csrf: 'This page has expired. Please try again.',
    unavailable: 'Signing in is not possible right now. Please try again shortly.',
    account: 'Account',
    signedInAs: 'Signed in as',
    signOut: 'Sign out',
    changePassword: 'Change password',
    mustChange: 'This is your first sign-in: please choose a new password.',
    currentPassword: 'Current password',
    newPassword: 'New password',
    confirmPassword: 'Confirm new password',
    save: 'Change password',
    mismatch: 'The two new passwords do not match.',
    changed: 'Your password has been changed.',
    notFound: 'Page not found.',
    passwordHint: 'At least 15 characters. A long phrase works well.',
  },
} as const;

export type Messages = (typeof MESSAGES)[Lang];

/** Japanese or English from Accept-Language (by q-value), Japanese when neither is asked for. */
export function pickLang(acceptLanguage: string | undefined, fallback: Lang = 'ja'): Lang {
  if (!acceptLanguage) return fallback;
  const ranked = acceptLanguage
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: tag.toLowerCase(), q: q ? Number(q.slice(2)) || 0 : 1 };
    })
    .filter((x) => x.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    if (tag === 'ja' || tag.startsWith('ja-')) return 'ja';
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return fallback;
}

export const messagesFor = (lang: Lang): Messages => MESSAGES[lang];

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
    passwordHint: '{n}文字以上。長いフレーズがおすすめです。',
    next: '次へ',
    signingInAs: 'サインインするアカウント',
    otherAccount: '別のアカウントを使う',
    forgot: 'パスワードをお忘れの場合',
    expired: 'サインインの有効期限が切れました。もう一度お試しください。',
    throttled: '失敗が続いたため、しばらくサインインできません。時間をおいてお試しください。',
    expiredPassword: 'パスワードの有効期限が切れています。新しいパスワードを設定してください。',
    expiresSoon: 'パスワードの有効期限が近づいています（期限: {date}）。',
    sessions: 'サインイン中のセッション',
    thisDevice: 'このデバイス',
    revoke: '終了する',
    startedAt: '開始',
    lastSeen: '最終利用',
    from: '接続元',
    loggedOut: 'サインアウトしました',
    loggedOutText: 'ご利用ありがとうございました。ブラウザを閉じても構いません。',
    signInAgain: 'もう一度サインインする',
    resetTitle: 'パスワードの再設定',
    resetIntro: 'ログインIDを入力してください。登録されたメールアドレスに再設定用のリンクをお送りします。',
    send: '送信する',
    resetSent: 'アカウントが存在する場合、再設定用のリンクをメールでお送りしました。リンクの有効期限は短いため、お早めにご利用ください。',
    resetInvalid: 'このリンクは有効期限が切れているか、すでに使用されています。もう一度お申し込みください。',
    endSessions: 'ほかのすべてのセッションからサインアウトする',
    resetDone: 'パスワードを再設定しました。新しいパスワードでサインインしてください。',
    tooMany: 'リクエストが多すぎます。しばらくしてからお試しください。',
    backToSignIn: 'サインインに戻る',
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
    passwordHint: 'At least {n} characters. A long phrase works well.',
    next: 'Next',
    signingInAs: 'Signing in as',
    otherAccount: 'Use another account',
    forgot: 'Forgot your password?',
    expired: 'This sign-in has expired. Please start again.',
    throttled: 'Too many failed sign-ins. Please wait a while and try again.',
    expiredPassword: 'Your password has expired: please choose a new one.',
    expiresSoon: 'Your password expires soon ({date}).',
    sessions: 'Your signed-in sessions',
    thisDevice: 'This device',
    revoke: 'Sign out',
    startedAt: 'Started',
    lastSeen: 'Last used',
    from: 'From',
    loggedOut: 'You have signed out',
    loggedOutText: 'Thank you. You may close this browser window.',
    signInAgain: 'Sign in again',
    resetTitle: 'Reset your password',
    resetIntro: 'Enter your login ID. We will mail a reset link to your registered address.',
    send: 'Send',
    resetSent: 'If the account exists, a reset link is on its way by mail. It works for a short time only.',
    resetInvalid: 'This link has expired or was already used. Please ask for a new one.',
    endSessions: 'Sign out of every other session',
    resetDone: 'Your password has been reset. Sign in with the new one.',
    tooMany: 'Too many requests. Please try again later.',
    backToSignIn: 'Back to sign-in',
  },
} as const;

export type Messages = { readonly [K in keyof (typeof MESSAGES)['en']]: string };

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

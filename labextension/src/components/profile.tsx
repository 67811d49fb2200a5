/**
 * The profile panel: display name, proficiency, preferred topics (GET/PUT /api/profile); the
 * rating is shown read-only. A refused update shows the service's message next to the form.
 */
import React, { useEffect, useState } from 'react';

import { IProfile, PROFICIENCIES, Proficiency, TOPICS, api } from '../api';
import { messageOf, notifyError, notifySuccess } from '../notify';

export function Profile(): JSX.Element {
  const [profile, setProfile] = useState<IProfile | null>(null);
  const [displayName, setDisplayName] = useState('');
  const [proficiency, setProficiency] = useState<Proficiency>('beginner');
  const [topics, setTopics] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const accept = (p: IProfile) => {
    setProfile(p);
    setDisplayName(p.display_name || '');
    setProficiency(p.proficiency);
    setTopics(p.topics || []);
  };

  useEffect(() => {
    api
      .profile()
      .then(accept)
      .catch(error => setProblem(notifyError(error, 'Loading your profile')));
  }, []);

  const save = async () => {
    setSaving(true);
    setProblem(null);
    try {
      accept(
        await api.saveProfile({
          display_name: displayName,
          proficiency,
          topics
        })
      );
      notifySuccess('Profile saved.');
    } catch (error) {
      setProblem(messageOf(error));
      notifyError(error, 'Saving your profile');
    } finally {
      setSaving(false);
    }
  };

  if (!profile) {
    return problem ? (
      <p className="jp-PeerPrep-error" role="alert">
        {problem}
      </p>
    ) : (
      <p>Loading your profile…</p>
    );
  }
  return (
    <form
      className="jp-PeerPrep-form jp-PeerPrep-profile"
      onSubmit={e => {
        e.preventDefault();
        void save();
      }}
    >
      <label className="jp-PeerPrep-field">
        Display name{' '}
        <input
          type="text"
          value={displayName}
          maxLength={200}
          onChange={e => setDisplayName(e.target.value)}
          data-testid="peerprep-profile-display-name"
        />
      </label>
      <label className="jp-PeerPrep-field">
        Proficiency{' '}
        <select
          value={proficiency}
          onChange={e => setProficiency(e.target.value as Proficiency)}
          data-testid="peerprep-profile-proficiency"
        >
          {PROFICIENCIES.map(p => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <fieldset>
        <legend>Preferred topics</legend>
        <div className="jp-PeerPrep-chips">
          {TOPICS.map(t => (
            <label
              key={t}
              className={
                'jp-PeerPrep-chip' +
                (topics.includes(t) ? ' jp-mod-selected' : '')
              }
            >
              <input
                type="checkbox"
                checked={topics.includes(t)}
                onChange={() =>
                  setTopics(current =>
                    current.includes(t)
                      ? current.filter(x => x !== t)
                      : [...current, t]
                  )
                }
                data-testid={`peerprep-profile-topic-${t}`}
              />
              {t}
            </label>
          ))}
        </div>
      </fieldset>
      <p>
        Rating:{' '}
        <strong data-testid="peerprep-profile-rating">
          {profile.rating ?? '—'}
        </strong>{' '}
        <span className="jp-PeerPrep-muted">
          (earned from submitted attempts)
        </span>
      </p>
      {problem ? (
        <p
          className="jp-PeerPrep-error"
          role="alert"
          data-testid="peerprep-profile-error"
        >
          {problem}
        </p>
      ) : null}
      <button
        type="submit"
        className="jp-mod-styled jp-mod-accept"
        disabled={saving}
        data-testid="peerprep-profile-save"
      >
        {saving ? 'Saving…' : 'Save profile'}
      </button>
    </form>
  );
}

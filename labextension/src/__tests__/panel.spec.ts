import { roleLabel, IMe } from '../panel';

const me = (over: Partial<IMe>): IMe => ({
  name: 'alice',
  groups: [],
  roles: ['user'],
  is_instructor: false,
  is_admin: false,
  ...over
});

describe('roleLabel', () => {
  it('calls a plain user a student', () => {
    expect(roleLabel(me({}))).toBe('student');
  });
  it('names instructors', () => {
    expect(roleLabel(me({ is_instructor: true }))).toBe('instructor');
  });
  it('puts admin above instructor', () => {
    expect(roleLabel(me({ is_instructor: true, is_admin: true }))).toBe('admin');
  });
});

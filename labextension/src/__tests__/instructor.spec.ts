import {
  describePublish,
  describeValidation,
  pathFromListingTitle
} from '../instructorResults';

const problem = (text: string, severity = 'error') => ({
  file: 'q.ipynb',
  cell: 4,
  tag: 'solution',
  field: 'public-tests[0]',
  severity,
  message: text,
  text
});

describe('pathFromListingTitle', () => {
  it('reads a file in the root folder', () => {
    expect(
      pathFromListingTitle('Name: two-sum.ipynb\nSize: 3 KB\nWritable: true')
    ).toBe('two-sum.ipynb');
  });

  it('joins the folder and the name', () => {
    expect(
      pathFromListingTitle(
        'Name: q.ipynb\nSize: 1 KB\nPath: course/week3\nWritable: true'
      )
    ).toBe('course/week3/q.ipynb');
  });

  it('refuses a shortened folder', () => {
    expect(
      pathFromListingTitle('Name: q.ipynb\nPath: a/very/long/folder...')
    ).toBeNull();
    expect(pathFromListingTitle('something else')).toBeNull();
  });
});

describe('describeValidation', () => {
  it('lists every finding of an invalid notebook', () => {
    const outcome = describeValidation(200, {
      ok: false,
      id: 'q',
      problems: [
        problem('q.ipynb: cell 4 [solution]: fails'),
        problem('slow', 'warning')
      ]
    });
    expect(outcome.ok).toBe(false);
    expect(outcome.heading).toBe('Not valid: 1 problem');
    expect(outcome.lines).toEqual([
      'q.ipynb: cell 4 [solution]: fails',
      '(warning) slow'
    ]);
  });

  it('says a valid notebook is valid', () => {
    const outcome = describeValidation(200, {
      ok: true,
      id: 'q',
      public: 3,
      hidden: 8,
      problems: []
    });
    expect(outcome).toEqual({
      ok: true,
      heading: 'q is a valid PeerPrep question (3 public, 8 hidden tests)',
      lines: []
    });
  });

  it('shows the service message for a refusal', () => {
    const outcome = describeValidation(403, {
      status: 403,
      message: 'Only instructors may do this'
    });
    expect(outcome.lines).toEqual(['Only instructors may do this']);
  });
});

describe('describePublish', () => {
  it('names the version published', () => {
    expect(
      describePublish(201, {
        id: 'q',
        version: 2,
        action: 'updated',
        problems: []
      }).heading
    ).toBe('q version 2: published as a new version');
    expect(
      describePublish(200, { id: 'q', version: 2, action: 'unchanged' }).heading
    ).toContain('unchanged');
  });

  it('lists the problems of a rejected notebook', () => {
    const outcome = describePublish(400, {
      status: 400,
      message: 'Not published: x',
      problems: [
        problem('q.ipynb: notebook metadata, field peerprep.difficulty: bad')
      ]
    });
    expect(outcome.ok).toBe(false);
    expect(outcome.lines).toEqual([
      'q.ipynb: notebook metadata, field peerprep.difficulty: bad'
    ]);
  });
});

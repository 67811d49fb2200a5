"""The question bank: the question notebook format, its loader and validator, the student view,
otter-grader and nbgrader import, and publishing into the service database.

- ``vocabulary``: difficulties, topics, checkers, cell tags;
- ``schema``: the ``peerprep`` notebook metadata and test cases;
- ``loader``: notebook -> spec, with problems naming file, cell and field;
- ``validate``: run the code in the grader's sandbox, resolve generated cases;
- ``student``: the student view and the student notebook (no solution, no hidden case);
- ``store``: versioned, idempotent publishing, retiring, listing;
- ``bank``: ``publish_notebook`` and the ``QuestionBank`` loaded on the service's start;
- ``otter``, ``nbgrader``: read otter-grader master and nbgrader source notebooks;
- ``asserts``: their test statements as cases (one converter for both);
- ``imported``: a read question written as a PeerPrep question notebook;
- ``cli``: ``jupyter peerprep questions ...``.
"""

import { errorMessage } from '../request';

describe('errorMessage', () => {
  it('shows the service message from a JSON error body', () => {
    expect(
      errorMessage(
        400,
        '{"status": 400, "message": "Unknown difficulty \'x\'"}'
      )
    ).toBe("Unknown difficulty 'x'");
  });

  it('falls back to the status for a body that is not JSON', () => {
    expect(errorMessage(502, '<html>Bad gateway</html>')).toBe(
      'The PeerPrep service answered with HTTP 502.'
    );
  });
});

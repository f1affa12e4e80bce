import { parseResponse } from '../src/keep-alive';
import { histogramQuantileMsOf, labelCountsOf } from '../src/platform-usage';

const histogram = (counts: Record<string, number>, sum: number) =>
  [
    ...Object.entries(counts).map(([le, count]) => `media_processing_duration_seconds_bucket{le="${le}"} ${count}`),
    `media_processing_duration_seconds_sum ${sum}`,
    `media_processing_duration_seconds_count ${counts['+Inf']}`,
  ].join('\n');

describe('reading the services’ histograms (the benches’ figures)', () => {
  it('when a quantile falls in a bucket, then it is interpolated in it from the observations between the two texts', () => {
    const before = histogram({ '0.5': 10, '1': 10, '2.5': 10, '+Inf': 10 }, 2);
    const after = histogram({ '0.5': 10, '1': 30, '2.5': 110, '+Inf': 110 }, 150);
    // 100 new observations: 20 in (0.5, 1], 80 in (1, 2.5]. The 50th is 30/80 of the way through (1, 2.5].
    expect(histogramQuantileMsOf(before, after, 'media_processing_duration_seconds', 0.5)).toBeCloseTo(1_562.5);
    expect(histogramQuantileMsOf(before, after, 'media_processing_duration_seconds', 0.1)).toBeCloseTo(750);
  });

  it('when a quantile lies past the last finite bound, then it is Infinity, not that bound', () => {
    const before = histogram({ '10': 0, '+Inf': 0 }, 0);
    const after = histogram({ '10': 1, '+Inf': 10 }, 200);
    expect(histogramQuantileMsOf(before, after, 'media_processing_duration_seconds', 0.5)).toBe(Infinity);
  });

  it('when nothing was observed in between, then the quantile is NaN', () => {
    const text = histogram({ '1': 3, '+Inf': 3 }, 1);
    expect(histogramQuantileMsOf(text, text, 'media_processing_duration_seconds', 0.5)).toBeNaN();
  });

  it('when statuses are counted by label, then only the series having every part count, most first', () => {
    const line = (upstream: string, status: string, count: number) =>
      `gateway_upstream_request_duration_seconds_count{upstream="${upstream}",status_code="${status}"} ${count}`;
    const before = [line('media', '201', 5), line('posts', '201', 7)].join('\n');
    const after = [line('media', '201', 26), line('media', '408', 79), line('posts', '201', 9), line('posts', '500', 1)].join('\n');
    expect(labelCountsOf(before, after, 'gateway_upstream_request_duration_seconds_count', 'status_code', ['upstream="media"'])).toBe(
      '408 ×79, 201 ×21',
    );
  });
});

describe('parsing an HTTP answer as it arrives', () => {
  const head = 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n';

  it('when the head is there but not the whole body, then it needs the whole answer’s size (so the chunks are joined once)', () => {
    expect(parseResponse(Buffer.from(`${head}abc`))).toEqual({ needs: head.length + 10 });
  });

  it('when the whole answer is there, then it is the status and the body', () => {
    const answer = parseResponse(Buffer.from(`${head}0123456789`));
    expect('needs' in answer ? undefined : [answer.status, answer.body.toString()]).toEqual([200, '0123456789']);
  });

  it('when a chunked answer is cut inside a chunk, then it needs the end of that chunk', () => {
    const chunked = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n';
    expect(parseResponse(Buffer.from(`${chunked}a\r\n01234`))).toEqual({ needs: chunked.length + 3 + 10 + 2 });
  });
});

/**
 * Two small SVG charts, drawn by hand: a column chart for a time series and a bar chart of counts.
 * No chart library: these two shapes need none, and the console's script stays small
 * (docs/web-app.md). Each chart has a text equivalent (a table) for screen readers.
 */
import { useId, type ReactNode } from 'react';

export interface Point {
  label: string;
  value: number;
}

const niceMax = (max: number): number => {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((step) => step * power).find((candidate) => candidate >= max) ?? max;
};

/** The points as a table: the label in the first column, the count (or `cell`) in the second. */
const PointTable = ({ points, heading, className, cell }: { points: Point[]; heading: string; className?: string; cell?: (point: Point) => ReactNode }) => (
  <table className={className}>
    <thead>
      <tr>
        <th scope="col">{heading}</th>
        <th scope="col">Events</th>
      </tr>
    </thead>
    <tbody>
      {points.map((point) => (
        <tr key={point.label}>
          <th scope="row">{point.label}</th>
          <td>{cell ? cell(point) : point.value}</td>
        </tr>
      ))}
    </tbody>
  </table>
);

export const ColumnChart = ({ points, title }: { points: Point[]; title: string }) => {
  const id = useId();
  const width = 640;
  const height = 200;
  const top = niceMax(Math.max(0, ...points.map((p) => p.value)));
  const step = points.length > 0 ? width / points.length : width;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height + 24}`} role="img" aria-labelledby={`${id}-title`} preserveAspectRatio="none">
        <title id={`${id}-title`}>{title}</title>
        <line x1={0} y1={height} x2={width} y2={height} className="axis" />
        {points.map((point, index) => {
          const h = (point.value / top) * (height - 8);
          return (
            <rect key={point.label} x={index * step + step * 0.1} y={height - h} width={Math.max(1, step * 0.8)} height={h} className="bar">
              <title>{`${point.label}: ${point.value}`}</title>
            </rect>
          );
        })}
        <text x={0} y={height + 18} className="tick">
          {points[0]?.label ?? ''}
        </text>
        <text x={width} y={height + 18} textAnchor="end" className="tick">
          {points.at(-1)?.label ?? ''}
        </text>
        <text x={4} y={12} className="tick">
          {top}
        </text>
      </svg>
      <figcaption>{title}</figcaption>
      <details>
        <summary>Show the numbers</summary>
        <PointTable points={points} heading="Period" />
      </details>
    </figure>
  );
};

export const BarList = ({ points, title }: { points: Point[]; title: string }) => {
  const top = Math.max(1, ...points.map((p) => p.value));
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <PointTable
        points={points}
        heading="Type"
        className="bars"
        cell={(point) => (
          <>
            <span className="bar-fill" style={{ inlineSize: `${(point.value / top) * 100}%` }} aria-hidden="true" />
            <span className="bar-value">{point.value}</span>
          </>
        )}
      />
    </figure>
  );
};

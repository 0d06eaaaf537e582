/** Minimal types for asciichart 1.5.25 (the package ships none). */
declare module 'asciichart' {
  export function plot(
    series: number[] | number[][],
    config?: { height?: number; format?: (x: number) => string; colors?: string[] },
  ): string;
}

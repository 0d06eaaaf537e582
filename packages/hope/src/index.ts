/** @nl/hope — see README.md. (Being built.) */
export const packageName = '@nl/hope';

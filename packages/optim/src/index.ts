/** @nl/optim — see README.md. (Being built.) */
export const packageName = '@nl/optim';

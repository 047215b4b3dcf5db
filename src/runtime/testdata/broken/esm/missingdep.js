import leftPad from 'left-pad-that-is-not-installed';
export default () => leftPad('x', 3);

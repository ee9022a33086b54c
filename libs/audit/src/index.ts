export { CHECKPOINT_TYP, MAX_PROBLEMS, type VerifyOptions, type VerifyProblem, type VerifyReport, verifyAuditLog } from './verify.js';

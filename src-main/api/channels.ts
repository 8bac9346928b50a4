// The IPC channel names, in one place (main process binding and preload).
export const IPC_CALL = 'rlhf:call';
export const IPC_EVENT = 'rlhf:event';

// A small C shim over the NATS C client (Debian libnats-dev, nats.c 3.4): only what Runnel's
// JetStream endpoints need, behind a plain header so Swift never imports nats.h. Every call
// here may block (network round trips, a fetch's long poll): call them from a dedicated thread
// or DispatchQueue, never from a NIO event loop or Swift's cooperative pool.
#ifndef RUNNEL_NATS_H
#define RUNNEL_NATS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A connection and its JetStream context.
typedef struct runnel_nats runnel_nats;
/// A pull subscription bound to a durable consumer.
typedef struct runnel_nats_sub runnel_nats_sub;
/// A fetched JetStream message (owned by the caller until runnel_nats_msg_destroy).
typedef struct runnel_nats_msg runnel_nats_msg;

/// What went wrong. `code` is a gRPC status code number (14 UNAVAILABLE, 3 INVALID_ARGUMENT,
/// 9 FAILED_PRECONDITION, ...), so the Swift side maps it onto StatusCode one to one.
typedef struct runnel_nats_error {
    int code;
    int nats_status;  // the natsStatus, 0 when none
    int js_code;      // the JetStream API error code, 0 when none
    char text[512];
} runnel_nats_error;

/// Called once per published message when JetStream answered (or the wait ran out), on one of
/// the library's threads. `code` is 0 when the message is stored; `duplicate` when JetStream had
/// it already (same Nats-Msg-Id within the stream's duplicate window).
typedef void (*runnel_nats_pub_ack_handler)(
    void *context, const char *msg_id, int code, int duplicate, const char *text);

/// Connects (one try) and creates a JetStream context. Reconnects by itself afterwards.
runnel_nats *runnel_nats_connect(
    const char *url, const char *name, int64_t timeout_ms, int64_t max_pending_publishes,
    runnel_nats_pub_ack_handler on_pub_ack, void *context, runnel_nats_error *error);
/// Waits up to `timeout_ms` for outstanding publish acks, flushes, closes, frees.
void runnel_nats_close(runnel_nats *nats, int64_t timeout_ms);
/// 1 while connected (not reconnecting, not closed).
int runnel_nats_is_connected(runnel_nats *nats);

/// Creates the stream (work-queue retention, one subject) unless it exists. 0 on success.
int runnel_nats_ensure_stream(
    runnel_nats *nats, const char *stream, const char *subject, int memory_storage, int64_t duplicate_window_ms,
    runnel_nats_error *error);
/// Creates or updates the durable pull consumer (explicit acks, unlimited deliveries: Runnel
/// counts them and dead-letters). 0 on success.
int runnel_nats_ensure_consumer(
    runnel_nats *nats, const char *stream, const char *durable, const char *subject, int64_t ack_wait_ms,
    int64_t max_ack_pending, runnel_nats_error *error);
/// How many messages of the stream are still to be done: delivered to no consumer yet, or
/// delivered and not acked (or terminated). 0 for a stream that does not exist (nothing was
/// published to it); the stream's message count when no consumer reads it yet. 0 on success.
int runnel_nats_queue_depth(runnel_nats *nats, const char *stream, uint64_t *depth, runnel_nats_error *error);
/// Binds a pull subscription to an existing durable consumer.
runnel_nats_sub *runnel_nats_pull_subscribe(
    runnel_nats *nats, const char *stream, const char *durable, const char *subject, runnel_nats_error *error);
void runnel_nats_sub_destroy(runnel_nats_sub *sub);
/// Fetches up to `capacity` messages into `out`, waiting up to `timeout_ms` for the first.
/// Returns how many (0 when none came in time), or -1 on an error.
int runnel_nats_fetch(
    runnel_nats_sub *sub, runnel_nats_msg **out, int capacity, int64_t timeout_ms, runnel_nats_error *error);

/// The payload; valid until the message is destroyed.
const void *runnel_nats_msg_data(runnel_nats_msg *msg, int *length);
/// A header's first value, or NULL; valid until the message is destroyed.
const char *runnel_nats_msg_header(runnel_nats_msg *msg, const char *key);
/// How many times JetStream has delivered this message (1 the first time), 0 if unknown.
uint64_t runnel_nats_msg_delivered(runnel_nats_msg *msg);
/// The message's sequence number in its stream, 0 if unknown.
uint64_t runnel_nats_msg_stream_sequence(runnel_nats_msg *msg);
int runnel_nats_msg_ack(runnel_nats_msg *msg, runnel_nats_error *error);
/// Hands the message back to be delivered again after `delay_ms`.
int runnel_nats_msg_nak(runnel_nats_msg *msg, int64_t delay_ms, runnel_nats_error *error);
/// Tells JetStream never to deliver the message again.
int runnel_nats_msg_term(runnel_nats_msg *msg, runnel_nats_error *error);
/// Resets the message's ack timer: still being worked on.
int runnel_nats_msg_in_progress(runnel_nats_msg *msg, runnel_nats_error *error);
void runnel_nats_msg_destroy(runnel_nats_msg *msg);

/// Publishes to JetStream with a `Nats-Msg-Id` header (and `Runnel-Type` when `type` is not
/// NULL) without waiting: the answer comes to the connection's pub-ack handler, or a timeout
/// after `max_wait_ms`. 0 when handed to the library.
int runnel_nats_publish(
    runnel_nats *nats, const char *subject, const char *msg_id, const char *type, const void *data, int length,
    int64_t max_wait_ms, runnel_nats_error *error);

#ifdef __cplusplus
}
#endif

#endif

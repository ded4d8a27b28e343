// The NATS C client behind runnel_nats.h. See the header for what each call does; this file
// only translates: Runnel's names and gRPC status codes on one side, nats.c's on the other.
#include "runnel_nats.h"

#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct runnel_nats {
    natsConnection *connection;
    jsCtx *js;
    runnel_nats_pub_ack_handler on_pub_ack;
    void *context;
};

struct runnel_nats_sub {
    natsSubscription *subscription;
};

enum {
    CODE_OK = 0,
    CODE_UNKNOWN = 2,
    CODE_INVALID_ARGUMENT = 3,
    CODE_NOT_FOUND = 5,
    CODE_PERMISSION_DENIED = 7,
    CODE_RESOURCE_EXHAUSTED = 8,
    CODE_FAILED_PRECONDITION = 9,
    CODE_UNAVAILABLE = 14,
    CODE_UNAUTHENTICATED = 16,
};

/// The gRPC status code for a nats.c failure: what a stage should do about it.
static int grpc_code(natsStatus status, jsErrCode js_code) {
    switch (status) {
    case NATS_OK:
        return CODE_OK;
    case NATS_IO_ERROR:
    case NATS_CONNECTION_CLOSED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_TIMEOUT:
    case NATS_NOT_YET_CONNECTED:
    case NATS_SLOW_CONSUMER:
    case NATS_NO_RESPONDERS:
    case NATS_DRAINING:
    case NATS_MISSED_HEARTBEAT:
        return CODE_UNAVAILABLE;
    case NATS_CONNECTION_AUTH_FAILED:
        return CODE_UNAUTHENTICATED;
    case NATS_NOT_PERMITTED:
        return CODE_PERMISSION_DENIED;
    case NATS_NOT_FOUND:
        return CODE_NOT_FOUND;
    case NATS_NO_MEMORY:
        return CODE_RESOURCE_EXHAUSTED;
    case NATS_MAX_PAYLOAD:
    case NATS_SECURE_CONNECTION_WANTED:
    case NATS_SECURE_CONNECTION_REQUIRED:
    case NATS_NO_SERVER_SUPPORT:
        return CODE_FAILED_PRECONDITION;
    case NATS_INVALID_SUBJECT:
    case NATS_INVALID_ARG:
    case NATS_INVALID_TIMEOUT:
    case NATS_INVALID_QUEUE_NAME:
    case NATS_ADDRESS_MISSING:
        return CODE_INVALID_ARGUMENT;
    case NATS_ERR:
        switch ((int)js_code) {
        case 0:
            return CODE_UNKNOWN;
        case JSAccountResourcesExceededErr:
        case JSInsufficientResourcesErr:
        case JSMemoryResourcesExceededErr:
        case JSStorageResourcesExceededErr:
        case JSStreamStoreFailedErr:
            return CODE_RESOURCE_EXHAUSTED;
        case JSStreamNotFoundErr:
        case JSConsumerNotFoundErr:
            return CODE_NOT_FOUND;
        default:
            return CODE_FAILED_PRECONDITION;
        }
    default:
        return CODE_UNKNOWN;
    }
}

/// Fills `error` from a failed call: the library's own words, then nats.c's last error detail.
static int fail(runnel_nats_error *error, natsStatus status, jsErrCode js_code, const char *what) {
    if (error == NULL) return -1;
    natsStatus last = NATS_OK;
    const char *detail = nats_GetLastError(&last);
    // The library prefixes its detail with "(file.c:123): ", which says nothing to a user.
    if (detail != NULL && detail[0] == '(') {
        const char *end = strstr(detail, "): ");
        if (end != NULL) detail = end + 3;
    }
    error->nats_status = (int)status;
    error->js_code = (int)js_code;
    error->code = grpc_code(status, js_code);
    if (detail != NULL && detail[0] != '\0' && strcmp(detail, natsStatus_GetText(status)) != 0) {
        snprintf(error->text, sizeof(error->text), "%s: %s (%s)", what, natsStatus_GetText(status), detail);
    } else {
        snprintf(error->text, sizeof(error->text), "%s: %s", what, natsStatus_GetText(status));
    }
    if (status == NATS_NO_RESPONDERS) {
        size_t used = strlen(error->text);
        snprintf(error->text + used, sizeof(error->text) - used, " (nothing answered: is the server started with -js?)");
    }
    if (js_code != 0) {
        size_t used = strlen(error->text);
        snprintf(error->text + used, sizeof(error->text) - used, " [JetStream error %d]", (int)js_code);
    }
    return -1;
}

static void pub_ack(jsCtx *js, natsMsg *msg, jsPubAck *ack, jsPubAckErr *failure, void *closure) {
    (void)js;
    runnel_nats *nats = (runnel_nats *)closure;
    const char *id = NULL;
    natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
    if (ack != NULL) {
        nats->on_pub_ack(nats->context, id, CODE_OK, ack->Duplicate ? 1 : 0, "");
    } else if (failure != NULL) {
        char text[512];
        snprintf(
            text, sizeof(text), "%s%s%s", natsStatus_GetText(failure->Err),
            failure->ErrText != NULL ? ": " : "", failure->ErrText != NULL ? failure->ErrText : "");
        nats->on_pub_ack(nats->context, id, grpc_code(failure->Err, failure->ErrCode), 0, text);
    }
    natsMsg_Destroy(msg);
}

runnel_nats *runnel_nats_connect(
    const char *url, const char *name, int64_t timeout_ms, int64_t max_pending_publishes,
    runnel_nats_pub_ack_handler on_pub_ack, void *context, runnel_nats_error *error) {
    natsOptions *options = NULL;
    natsConnection *connection = NULL;
    natsStatus status = natsOptions_Create(&options);
    if (status == NATS_OK) status = natsOptions_SetURL(options, url);
    if (status == NATS_OK && name != NULL) status = natsOptions_SetName(options, name);
    if (status == NATS_OK) status = natsOptions_SetTimeout(options, timeout_ms);
    // After the first connection: reconnect for ever, quickly; the caller's own waits decide
    // when to give up on a message.
    if (status == NATS_OK) status = natsOptions_SetMaxReconnect(options, -1);
    if (status == NATS_OK) status = natsOptions_SetReconnectWait(options, 250);
    if (status == NATS_OK) status = natsOptions_SetPingInterval(options, 5000);
    if (status == NATS_OK) status = natsOptions_SetMaxPingsOut(options, 3);
    if (status == NATS_OK) status = natsConnection_Connect(&connection, options);
    natsOptions_Destroy(options);
    if (status != NATS_OK) {
        fail(error, status, 0, "cannot connect");
        return NULL;
    }
    runnel_nats *nats = calloc(1, sizeof(runnel_nats));
    if (nats == NULL) {
        natsConnection_Destroy(connection);
        fail(error, NATS_NO_MEMORY, 0, "cannot connect");
        return NULL;
    }
    nats->connection = connection;
    nats->on_pub_ack = on_pub_ack;
    nats->context = context;
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = timeout_ms;
    if (on_pub_ack != NULL) {
        js_options.PublishAsync.AckHandler = pub_ack;
        js_options.PublishAsync.AckHandlerClosure = nats;
        js_options.PublishAsync.MaxPending = max_pending_publishes;
    }
    status = natsConnection_JetStream(&nats->js, connection, &js_options);
    if (status != NATS_OK) {
        fail(error, status, 0, "cannot open a JetStream context");
        natsConnection_Destroy(connection);
        free(nats);
        return NULL;
    }
    return nats;
}

void runnel_nats_close(runnel_nats *nats, int64_t timeout_ms) {
    if (nats == NULL) return;
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = timeout_ms > 0 ? timeout_ms : 1;
    js_PublishAsyncComplete(nats->js, &wait);
    natsConnection_FlushTimeout(nats->connection, timeout_ms > 0 ? timeout_ms : 1);
    natsConnection_Close(nats->connection);
    jsCtx_Destroy(nats->js);
    natsConnection_Destroy(nats->connection);
    free(nats);
}

int runnel_nats_is_connected(runnel_nats *nats) {
    return nats != NULL && natsConnection_Status(nats->connection) == NATS_CONN_STATUS_CONNECTED;
}

int runnel_nats_ensure_stream(
    runnel_nats *nats, const char *stream, const char *subject, int memory_storage, int64_t duplicate_window_ms,
    runnel_nats_error *error) {
    jsErrCode js_code = 0;
    jsStreamInfo *info = NULL;
    natsStatus status = js_GetStreamInfo(&info, nats->js, stream, NULL, &js_code);
    if (status == NATS_OK) {
        jsStreamInfo_Destroy(info);
        return 0;
    }
    if (status != NATS_NOT_FOUND && js_code != JSStreamNotFoundErr) {
        return fail(error, status, js_code, "cannot look up the stream");
    }
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    const char *subjects[1] = {subject};
    config.Name = stream;
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Retention = js_WorkQueuePolicy;
    config.Storage = memory_storage ? js_MemoryStorage : js_FileStorage;
    config.Duplicates = duplicate_window_ms * 1000000;
    js_code = 0;
    status = js_AddStream(&info, nats->js, &config, NULL, &js_code);
    if (status == NATS_OK) {
        jsStreamInfo_Destroy(info);
        return 0;
    }
    // Another replica may have created it in the meantime.
    if (js_GetStreamInfo(&info, nats->js, stream, NULL, NULL) == NATS_OK) {
        jsStreamInfo_Destroy(info);
        return 0;
    }
    return fail(error, status, js_code, "cannot create the stream");
}

int runnel_nats_ensure_consumer(
    runnel_nats *nats, const char *stream, const char *durable, const char *subject, int64_t ack_wait_ms,
    int64_t max_ack_pending, runnel_nats_error *error) {
    jsConsumerConfig config;
    jsConsumerConfig_Init(&config);
    config.Durable = durable;
    config.AckPolicy = js_AckExplicit;
    config.DeliverPolicy = js_DeliverAll;
    config.AckWait = ack_wait_ms * 1000000;
    config.MaxDeliver = -1;
    config.FilterSubject = subject;
    config.MaxAckPending = max_ack_pending;
    jsErrCode js_code = 0;
    jsConsumerInfo *info = NULL;
    natsStatus status = js_GetConsumerInfo(&info, nats->js, stream, durable, NULL, &js_code);
    if (status == NATS_OK) {
        int same = info->Config != NULL && info->Config->AckWait == config.AckWait
            && info->Config->MaxAckPending == config.MaxAckPending;
        jsConsumerInfo_Destroy(info);
        if (same) return 0;
        js_code = 0;
        status = js_UpdateConsumer(&info, nats->js, stream, &config, NULL, &js_code);
        if (status == NATS_OK) {
            jsConsumerInfo_Destroy(info);
            return 0;
        }
        return fail(error, status, js_code, "cannot update the consumer");
    }
    if (status != NATS_NOT_FOUND && js_code != JSConsumerNotFoundErr) {
        return fail(error, status, js_code, "cannot look up the consumer");
    }
    js_code = 0;
    status = js_AddConsumer(&info, nats->js, stream, &config, NULL, &js_code);
    if (status == NATS_OK) {
        jsConsumerInfo_Destroy(info);
        return 0;
    }
    if (js_GetConsumerInfo(&info, nats->js, stream, durable, NULL, NULL) == NATS_OK) {
        jsConsumerInfo_Destroy(info);
        return 0;
    }
    return fail(error, status, js_code, "cannot create the consumer");
}

int runnel_nats_queue_depth(runnel_nats *nats, const char *stream, uint64_t *depth, runnel_nats_error *error) {
    *depth = 0;
    jsErrCode js_code = 0;
    jsStreamInfo *info = NULL;
    natsStatus status = js_GetStreamInfo(&info, nats->js, stream, NULL, &js_code);
    if (status == NATS_NOT_FOUND || js_code == JSStreamNotFoundErr) return 0;
    if (status != NATS_OK) return fail(error, status, js_code, "cannot look up the stream");
    uint64_t messages = info->State.Msgs;
    jsStreamInfo_Destroy(info);
    if (messages == 0) return 0;
    // A terminated message may stay in a work-queue stream (nats-server 2.9): what the
    // consumers still have to deliver or see acked is what is left to do.
    jsConsumerInfoList *list = NULL;
    js_code = 0;
    status = js_Consumers(&list, nats->js, stream, NULL, &js_code);
    if (status == NATS_NOT_FOUND) {
        *depth = messages;
        return 0;
    }
    if (status != NATS_OK) return fail(error, status, js_code, "cannot list the stream's consumers");
    if (list == NULL || list->Count == 0) {
        *depth = messages;
    } else {
        for (int i = 0; i < list->Count; i++) {
            jsConsumerInfo *consumer = list->List[i];
            if (consumer == NULL) continue;
            // Redelivered ones are counted in NumAckPending too: counting them twice errs on
            // the side of "not done yet", which is the only answer that matters here.
            *depth += consumer->NumPending + (uint64_t)(consumer->NumAckPending > 0 ? consumer->NumAckPending : 0)
                + (uint64_t)(consumer->NumRedelivered > 0 ? consumer->NumRedelivered : 0);
        }
    }
    jsConsumerInfoList_Destroy(list);
    return 0;
}

runnel_nats_sub *runnel_nats_pull_subscribe(
    runnel_nats *nats, const char *stream, const char *durable, const char *subject, runnel_nats_error *error) {
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = stream;
    options.Consumer = durable;
    options.ManualAck = true;
    natsSubscription *subscription = NULL;
    jsErrCode js_code = 0;
    natsStatus status = js_PullSubscribe(&subscription, nats->js, subject, durable, NULL, &options, &js_code);
    if (status != NATS_OK) {
        fail(error, status, js_code, "cannot subscribe");
        return NULL;
    }
    runnel_nats_sub *sub = calloc(1, sizeof(runnel_nats_sub));
    if (sub == NULL) {
        natsSubscription_Destroy(subscription);
        fail(error, NATS_NO_MEMORY, 0, "cannot subscribe");
        return NULL;
    }
    sub->subscription = subscription;
    return sub;
}

void runnel_nats_sub_destroy(runnel_nats_sub *sub) {
    if (sub == NULL) return;
    // Destroy without unsubscribing: the durable consumer stays for the other replicas.
    natsSubscription_Destroy(sub->subscription);
    free(sub);
}

int runnel_nats_fetch(
    runnel_nats_sub *sub, runnel_nats_msg **out, int capacity, int64_t timeout_ms, runnel_nats_error *error) {
    natsMsgList list = {0};
    jsErrCode js_code = 0;
    natsStatus status = natsSubscription_Fetch(&list, sub->subscription, capacity, timeout_ms, &js_code);
    if (status == NATS_TIMEOUT) return 0;
    if (status != NATS_OK) return fail(error, status, js_code, "cannot fetch");
    int count = list.Count < capacity ? list.Count : capacity;
    for (int i = 0; i < list.Count; i++) {
        if (i < count) {
            out[i] = (runnel_nats_msg *)list.Msgs[i];
            list.Msgs[i] = NULL;  // now the caller's
        }
    }
    natsMsgList_Destroy(&list);
    return count;
}

const void *runnel_nats_msg_data(runnel_nats_msg *msg, int *length) {
    *length = natsMsg_GetDataLength((natsMsg *)msg);
    return natsMsg_GetData((natsMsg *)msg);
}

const char *runnel_nats_msg_header(runnel_nats_msg *msg, const char *key) {
    const char *value = NULL;
    if (natsMsgHeader_Get((natsMsg *)msg, key, &value) != NATS_OK) return NULL;
    return value;
}

uint64_t runnel_nats_msg_delivered(runnel_nats_msg *msg) {
    jsMsgMetaData *meta = NULL;
    if (natsMsg_GetMetaData(&meta, (natsMsg *)msg) != NATS_OK) return 0;
    uint64_t delivered = meta->NumDelivered;
    jsMsgMetaData_Destroy(meta);
    return delivered;
}

uint64_t runnel_nats_msg_stream_sequence(runnel_nats_msg *msg) {
    return natsMsg_GetSequence((natsMsg *)msg);
}

int runnel_nats_msg_ack(runnel_nats_msg *msg, runnel_nats_error *error) {
    natsStatus status = natsMsg_Ack((natsMsg *)msg, NULL);
    return status == NATS_OK ? 0 : fail(error, status, 0, "cannot ack");
}

int runnel_nats_msg_nak(runnel_nats_msg *msg, int64_t delay_ms, runnel_nats_error *error) {
    natsStatus status = delay_ms > 0 ? natsMsg_NakWithDelay((natsMsg *)msg, delay_ms, NULL) : natsMsg_Nak((natsMsg *)msg, NULL);
    return status == NATS_OK ? 0 : fail(error, status, 0, "cannot nak");
}

int runnel_nats_msg_term(runnel_nats_msg *msg, runnel_nats_error *error) {
    natsStatus status = natsMsg_Term((natsMsg *)msg, NULL);
    return status == NATS_OK ? 0 : fail(error, status, 0, "cannot term");
}

int runnel_nats_msg_in_progress(runnel_nats_msg *msg, runnel_nats_error *error) {
    natsStatus status = natsMsg_InProgress((natsMsg *)msg, NULL);
    return status == NATS_OK ? 0 : fail(error, status, 0, "cannot mark in progress");
}

void runnel_nats_msg_destroy(runnel_nats_msg *msg) {
    natsMsg_Destroy((natsMsg *)msg);
}

int runnel_nats_publish(
    runnel_nats *nats, const char *subject, const char *msg_id, const char *type, const void *data, int length,
    int64_t max_wait_ms, runnel_nats_error *error) {
    natsMsg *msg = NULL;
    natsStatus status = natsMsg_Create(&msg, subject, NULL, (const char *)data, length);
    if (status == NATS_OK) status = natsMsgHeader_Set(msg, "Nats-Msg-Id", msg_id);
    if (status == NATS_OK && type != NULL) status = natsMsgHeader_Set(msg, "Runnel-Type", type);
    if (status != NATS_OK) {
        natsMsg_Destroy(msg);
        return fail(error, status, 0, "cannot build the message");
    }
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = max_wait_ms;
    status = js_PublishMsgAsync(nats->js, &msg, &options);
    natsMsg_Destroy(msg);  // NULL (a no-op) when the library took it
    return status == NATS_OK ? 0 : fail(error, status, 0, "cannot publish");
}

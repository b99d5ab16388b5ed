/* kafka_mock: librdkafka's mock cluster as a process, for daemon tests.
 *
 * Debian packages no Kafka broker; librdkafka ships a mock cluster
 * (rdkafka_mock.h) that speaks the Kafka protocol on loopback. This helper
 * runs one and reads it back, so tests/daemon/broker_sinks_test.py can point
 * flowacctd at it.
 *
 *   kafka_mock serve TOPIC PARTITIONS
 *       Creates a 3-broker mock cluster with TOPIC (PARTITIONS partitions,
 *       replication 3), prints the bootstrap servers ("127.0.0.1:P,...") on
 *       one line of stdout and keeps the cluster up until stdin reaches EOF.
 *       Commands read from stdin, one per line: "down N" / "up N" take
 *       broker N (1..3) down or up; each is answered with "ok" or "error".
 *   kafka_mock consume BOOTSTRAP TOPIC IDLE_MS
 *       Reads every partition of TOPIC from the beginning and prints each
 *       message as one line:
 *         partition<TAB>key<TAB>flowacct-id header<TAB>payload
 *       where the payload's '\n' (amqp/kafka_multi_values row separator) is
 *       printed as TAB, so the line splits into rows (JSON has no raw tabs).
 *       Stops when every partition reached its end and nothing new came for
 *       IDLE_MS, or after 60 s (exit 1). Errors go to stderr.
 */

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int serve(const char *topic, int partitions) {
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* No brokers: the handle only hosts the mock cluster. */
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == NULL) {
    fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 3);
  if (mc == NULL) {
    fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  rd_kafka_resp_err_t e =
      rd_kafka_mock_topic_create(mc, topic, partitions, 3);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    fprintf(stderr, "rd_kafka_mock_topic_create: %s\n", rd_kafka_err2str(e));
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 1;
  }
  printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);
  char line[256];
  while (fgets(line, sizeof(line), stdin) != NULL) {
    int broker = 0;
    if (sscanf(line, "down %d", &broker) == 1) {
      e = rd_kafka_mock_broker_set_down(mc, broker);
    } else if (sscanf(line, "up %d", &broker) == 1) {
      e = rd_kafka_mock_broker_set_up(mc, broker);
    } else {
      e = RD_KAFKA_RESP_ERR__INVALID_ARG;
    }
    printf("%s\n", e == RD_KAFKA_RESP_ERR_NO_ERROR ? "ok" : "error");
    fflush(stdout);
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}

static void print_escaped(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) putchar(p[i] == '\n' ? '\t' : p[i]);
}

static int consume(const char *bootstrap, const char *topic, int idle_ms) {
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err,
                        sizeof(err)) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "group.id", "kafka_mock", err, sizeof(err)) !=
          RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "enable.partition.eof", "true", err,
                        sizeof(err)) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
                        sizeof(err)) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "config: %s\n", err);
    rd_kafka_conf_destroy(conf);
    return 1;
  }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == NULL) {
    fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 1;
  }
  rd_kafka_poll_set_consumer(rk);
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
      md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    fprintf(stderr, "metadata for %s: %s\n", topic,
            rd_kafka_err2str(e != RD_KAFKA_RESP_ERR_NO_ERROR
                                 ? e
                                 : (md->topic_cnt == 1 ? md->topics[0].err
                                                       : e)));
    if (md != NULL) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return 1;
  }
  const int partitions = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_topic_partition_list_t *list =
      rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; p++) {
    rd_kafka_topic_partition_list_add(list, topic, p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  e = rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    fprintf(stderr, "assign: %s\n", rd_kafka_err2str(e));
    rd_kafka_destroy(rk);
    return 1;
  }
  int *at_eof = calloc((size_t)partitions, sizeof(int));
  int eofs = 0, rc = 0;
  const long long deadline = now_ms() + 60000;
  long long last = now_ms();
  for (;;) {
    if (now_ms() > deadline) {
      fprintf(stderr, "consume: not done after 60 s (%d/%d partitions at "
              "their end)\n", eofs, partitions);
      rc = 1;
      break;
    }
    if (eofs == partitions && now_ms() - last >= idle_ms) break;
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (m == NULL) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (m->partition >= 0 && m->partition < partitions &&
          !at_eof[m->partition]) {
        at_eof[m->partition] = 1;
        eofs++;
      }
    } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fprintf(stderr, "consume: %s\n", rd_kafka_message_errstr(m));
    } else {
      last = now_ms();
      if (m->partition >= 0 && m->partition < partitions &&
          at_eof[m->partition]) {
        at_eof[m->partition] = 0;
        eofs--;
      }
      const void *hv = NULL;
      size_t hn = 0;
      rd_kafka_headers_t *hdrs = NULL;
      if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
          rd_kafka_header_get_last(hdrs, "flowacct-id", &hv, &hn) !=
              RD_KAFKA_RESP_ERR_NO_ERROR) {
        hv = NULL;
        hn = 0;
      }
      printf("%d\t", (int)m->partition);
      print_escaped(m->key != NULL ? (const char *)m->key : "", m->key_len);
      putchar('\t');
      print_escaped(hv != NULL ? (const char *)hv : "", hn);
      putchar('\t');
      print_escaped(m->payload != NULL ? (const char *)m->payload : "",
                    m->len);
      putchar('\n');
    }
    rd_kafka_message_destroy(m);
  }
  free(at_eof);
  fflush(stdout);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "serve") == 0) {
    return serve(argv[2], atoi(argv[3]));
  }
  if (argc == 5 && strcmp(argv[1], "consume") == 0) {
    return consume(argv[2], argv[3], atoi(argv[4]));
  }
  fprintf(stderr,
          "usage: kafka_mock serve TOPIC PARTITIONS\n"
          "       kafka_mock consume BOOTSTRAP TOPIC IDLE_MS\n");
  return 2;
}

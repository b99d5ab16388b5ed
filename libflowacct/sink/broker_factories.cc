// CreateAmqpSink / CreateKafkaSink when flowacct is built without
// librabbitmq / librdkafka (libflowacct/CMakeLists.txt: FLOWACCT_HAVE_*).

#include <memory>

#include "flowacct/sink/amqp_sink.h"
#include "flowacct/sink/kafka_sink.h"

namespace flowacct {

#if !defined(FLOWACCT_HAVE_AMQP)
Result<std::unique_ptr<Sink>> CreateAmqpSink(const AmqpSinkOptions& options,
                                             const PrimitiveRegistry*) {
  return UnimplementedError("amqp[" + options.name +
                            "]: flowacct was built without librabbitmq "
                            "(Debian: librabbitmq-dev)");
}
#endif

#if !defined(FLOWACCT_HAVE_KAFKA)
Result<std::unique_ptr<Sink>> CreateKafkaSink(const KafkaSinkOptions& options,
                                              const PrimitiveRegistry*) {
  return UnimplementedError("kafka[" + options.name +
                            "]: flowacct was built without librdkafka "
                            "(Debian: librdkafka-dev)");
}
#endif

}  // namespace flowacct

#include "trainers/communicator.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "engine/error.h"
#include "engine/random.h"
#include "trainers/single_process_communicator.h"
#ifdef QAT_HAVE_MPI
#include "trainers/mpi_communicator.h"
#endif

namespace qat {
namespace {

// mpirun (Open MPI) tells every process the size of its job in OMPI_COMM_WORLD_SIZE.
std::unique_ptr<Communicator> make_world_communicator() {
  const char* ranks = std::getenv("OMPI_COMM_WORLD_SIZE");
#ifdef QAT_HAVE_MPI
  if (ranks) return std::make_unique<MpiCommunicator>();
#else
  QAT_CHECK(!ranks || std::string(ranks) == "1", "launched by mpirun with ", ranks,
            " ranks, but this qat was built without MPI (configure with -DQAT_MPI=ON)");
#endif
  return std::make_unique<SingleProcessCommunicator>();
}

void broadcast_tensor(Communicator& communicator, Tensor& tensor) {
  communicator.broadcast({static_cast<std::byte*>(tensor.raw()), tensor.desc().get_size()});
}

void broadcast_string(Communicator& communicator, std::string& text) {
  uint64_t length = text.size();
  communicator.broadcast(std::as_writable_bytes(std::span(&length, 1)));
  text.resize(length);
  communicator.broadcast(std::as_writable_bytes(std::span(text.data(), text.size())));
}

}  // namespace

void Communicator::average(std::span<float> values) {
  start_average(values);
  wait_all();
}

Communicator& world_communicator() {
  static const std::unique_ptr<Communicator> world = make_world_communicator();
  return *world;
}

void broadcast_from_root(Communicator& communicator, Module& model) {
  if (communicator.size() == 1) return;
  std::map<std::string, Tensor> state = model.state_dict();
  for (auto& [name, tensor] : state) broadcast_tensor(communicator, tensor);
  if (!communicator.is_root()) model.load_state_dict(state);
  std::string rng = global_generator().state();
  broadcast_string(communicator, rng);
  if (!communicator.is_root()) global_generator().set_state(rng);
}

void broadcast_buffers_from_root(Communicator& communicator, Module& model) {
  if (communicator.size() == 1) return;
  for (auto& [name, buffer] : model.named_buffers()) {
    Tensor plain = buffer->contiguous();
    broadcast_tensor(communicator, plain);
    if (!plain.shares_storage(*buffer)) *buffer = plain.to_layout(buffer->desc());
  }
}

}  // namespace qat

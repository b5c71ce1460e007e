#pragma once
// C interface of qat_sentencepiece_shim, the one module that links Debian's libsentencepiece. That library
// embeds its own protobuf 3.14 and exports its symbols, which clash with the system libprotobuf 3.21 our
// configs need (a process with both crashes at start-up), so the tokenizer loads this shim with dlopen
// (RTLD_LOCAL | RTLD_DEEPBIND): sentencepiece then binds to its own protobuf and nothing leaks out.
#include <cstddef>

extern "C" {

/// Trains a model on `count` texts with SentencePiece flags `args`; on success returns 0 and a malloc'd
/// serialized model in *model / *size, else returns -1 and a malloc'd message in *error.
int qat_spm_train(const char* const* texts, size_t count, const char* args, char** model, size_t* size,
                  char** error);
/// Loads a serialized model; null (and a malloc'd *error) on failure.
void* qat_spm_load(const char* bytes, size_t size, char** error);
/// Encodes UTF-8 text into a malloc'd array of ids; returns their number, or -1 on failure.
long qat_spm_encode(const void* processor, const char* text, size_t length, int** ids);
/// Decodes ids into a malloc'd UTF-8 string.
char* qat_spm_decode(const void* processor, const int* ids, size_t count);
/// Number of pieces of the model.
int qat_spm_piece_size(const void* processor);
/// Id of a piece (the unknown id when absent).
int qat_spm_piece_to_id(const void* processor, const char* piece);
/// Frees a processor from qat_spm_load.
void qat_spm_free_processor(void* processor);
}

// STUB: replaced by the model implementation.
#include "flowacct/model/ip_address.h"

#===- AddLowbit.cmake - thin wrappers over MLIR's CMake functions --------===#
#
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#
#===----------------------------------------------------------------------===#
#
# add_mlir_library links the static MLIR component libraries; Debian also
# ships libMLIR.so and libLLVM.so, and linking those keeps link times and
# binary sizes small. These wrappers always link the shared libraries.

# add_lowbit_library(name src... [DEPENDS tgt...] [LINK_LIBS lib...])
function(add_lowbit_library name)
  cmake_parse_arguments(ARG "" "" "DEPENDS;LINK_LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_UNPARSED_ARGUMENTS})
  llvm_update_compile_flags(${name})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
  target_link_libraries(${name} PUBLIC ${ARG_LINK_LIBS} MLIR LLVM)
endfunction()

# add_lowbit_tool(name src... [LINK_LIBS lib...])
function(add_lowbit_tool name)
  cmake_parse_arguments(ARG "" "" "LINK_LIBS" ${ARGN})
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  llvm_update_compile_flags(${name})
  target_link_libraries(${name} PRIVATE ${ARG_LINK_LIBS} MLIR LLVM)
endfunction()

# SPDX-License-Identifier: Apache-2.0
# The web UI in the binary: builds web/ (React + Vite) and embeds its output, precompressed,
# as al_embedded_assets (${CMAKE_BINARY_DIR}/embedded_assets.c). Included by CMakeLists.txt;
# docs/web.md explains the choices.
#
#   -DAGENTLENS_WEB=ON (default)  build web/ with npm when its sources change (`npm ci` only when
#                                 package-lock.json changed) and embed web/dist. Without Node.js
#                                 and npm, or without the sources, an existing web/dist is
#                                 embedded as it is (the container build makes it in a Node
#                                 stage); with neither, configuring fails and says what to
#                                 install (no sources and no dist: the fallback page).
#   -DAGENTLENS_WEB=OFF           embed cmake/web-fallback (a page pointing at the API): for
#                                 C-only work loops, no Node.js needed.
#   -DAGENTLENS_WEB_DIST=dir      embed this prebuilt SPA build instead of building web/.

option(AGENTLENS_WEB "Build the web UI from web/ with npm and embed it (OFF: a minimal fallback page)" ON)
set(AGENTLENS_WEB_DIST "" CACHE PATH "Embed this prebuilt web UI build (a directory with index.html) instead of building web/")

set(AL_WEB_DIR ${CMAKE_SOURCE_DIR}/web)
set(AL_WEB_STAGE ${CMAKE_BINARY_DIR}/web-root)
set(AL_WEB_STAMP ${CMAKE_BINARY_DIR}/web-root.stamp)
set(AL_WEB_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/web-build.cmake)
set(AL_WEB_FALLBACK ${CMAKE_CURRENT_LIST_DIR}/web-fallback)
set(AL_WEB_NODE_MIN 20.19)

# Decides where the embedded tree comes from: AL_WEB_MODE is npm, prebuilt or fallback.
set(AL_WEB_SRC "")
if(NOT AGENTLENS_WEB)
  set(AL_WEB_MODE fallback)
  set(AL_WEB_SRC ${AL_WEB_FALLBACK})
elseif(AGENTLENS_WEB_DIST)
  if(NOT EXISTS ${AGENTLENS_WEB_DIST}/index.html)
    message(FATAL_ERROR "AGENTLENS_WEB_DIST=${AGENTLENS_WEB_DIST} has no index.html")
  endif()
  set(AL_WEB_MODE prebuilt)
  set(AL_WEB_SRC ${AGENTLENS_WEB_DIST})
elseif(NOT EXISTS ${AL_WEB_DIR}/package.json)
  # No sources: a build of them (the container build copies only web/dist), else the fallback.
  if(EXISTS ${AL_WEB_DIR}/dist/index.html)
    set(AL_WEB_MODE prebuilt)
    set(AL_WEB_SRC ${AL_WEB_DIR}/dist)
  else()
    message(STATUS "web UI: ${AL_WEB_DIR}/package.json not found: embedding the fallback page")
    set(AL_WEB_MODE fallback)
    set(AL_WEB_SRC ${AL_WEB_FALLBACK})
  endif()
else()
  find_program(AL_NODE node)
  find_program(AL_NPM npm)
  set(node_version "")
  if(AL_NODE)
    execute_process(COMMAND ${AL_NODE} --version OUTPUT_VARIABLE node_version
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    string(REGEX REPLACE "^v" "" node_version "${node_version}")
  endif()
  if(AL_NODE AND AL_NPM AND node_version VERSION_GREATER_EQUAL AL_WEB_NODE_MIN)
    set(AL_WEB_MODE npm)
  else()
    if(NOT AL_NODE OR NOT AL_NPM)
      set(why "Node.js and npm were not found")
    else()
      set(why "Node.js ${node_version} is older than ${AL_WEB_NODE_MIN} (Vite needs it)")
    endif()
    if(EXISTS ${AL_WEB_DIR}/dist/index.html)
      message(WARNING "web UI: ${why}: embedding the existing ${AL_WEB_DIR}/dist as it is")
      set(AL_WEB_MODE prebuilt)
      set(AL_WEB_SRC ${AL_WEB_DIR}/dist)
    else()
      message(FATAL_ERROR "web UI: ${why}. Install them (scripts/deps.sh build), or configure "
                          "with -DAGENTLENS_WEB=OFF to embed a minimal fallback page instead.")
    endif()
  endif()
endif()
if(AL_WEB_MODE STREQUAL npm)
  message(STATUS "web UI: built from ${AL_WEB_DIR} with ${AL_NPM} (node ${node_version})")
else()
  message(STATUS "web UI: embedding ${AL_WEB_SRC}")
endif()

if(AL_WEB_MODE STREQUAL npm)
  # What the Vite build reads: the top-level config files and src/, public/ (not node_modules,
  # not dist).
  file(GLOB AL_WEB_INPUTS CONFIGURE_DEPENDS
    ${AL_WEB_DIR}/*.json ${AL_WEB_DIR}/*.ts ${AL_WEB_DIR}/*.js ${AL_WEB_DIR}/*.mjs ${AL_WEB_DIR}/*.html)
  file(GLOB_RECURSE AL_WEB_TREE CONFIGURE_DEPENDS ${AL_WEB_DIR}/src/* ${AL_WEB_DIR}/public/*)
  add_custom_command(
    OUTPUT ${AL_WEB_STAMP}
    COMMAND ${CMAKE_COMMAND} -DWEB_DIR=${AL_WEB_DIR} -DNPM=${AL_NPM} -DSTAGE=${AL_WEB_STAGE}
            -DSTAMP=${AL_WEB_STAMP} -P ${AL_WEB_SCRIPT}
    DEPENDS ${AL_WEB_INPUTS} ${AL_WEB_TREE} ${AL_WEB_SCRIPT} ${CMAKE_CURRENT_LIST_DIR}/npm-ci.cmake
    COMMENT "Building the web UI (npm run build in web/)"
    USES_TERMINAL)
else()
  file(GLOB_RECURSE AL_WEB_TREE CONFIGURE_DEPENDS ${AL_WEB_SRC}/*)
  add_custom_command(
    OUTPUT ${AL_WEB_STAMP}
    COMMAND ${CMAKE_COMMAND} -DSRC=${AL_WEB_SRC} -DSTAGE=${AL_WEB_STAGE} -DSTAMP=${AL_WEB_STAMP}
            -P ${AL_WEB_SCRIPT}
    DEPENDS ${AL_WEB_TREE} ${AL_WEB_SCRIPT}
    COMMENT "Staging the web UI from ${AL_WEB_SRC}")
endif()

add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/embedded_assets.c
  COMMAND ${CMAKE_COMMAND} -DROOT=${AL_WEB_STAGE} -DOUT=${CMAKE_BINARY_DIR}/embedded_assets.c
          -DSYMBOL=al_embedded_assets -DPATTERN=* -P ${EMBED_SCRIPT}
  DEPENDS ${AL_WEB_STAMP} ${EMBED_SCRIPT}
  COMMENT "Embedding web assets")

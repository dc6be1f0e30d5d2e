# dosim_embed_folder(TARGET FOLDER HEADER NAMESPACE): every file of FOLDER (a source folder)
# compiled into TARGET as text, through the generated header HEADER (under generated/) in
# namespace NAMESPACE (cmake/EmbedFiles.cmake). Regenerated when a file changes or is added.
function(dosim_embed_folder target folder header namespace)
  file(GLOB files CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${folder}/*)
  list(SORT files)
  set(out ${PROJECT_BINARY_DIR}/generated/${header})
  list(JOIN files "|" joined)  # a ;-list would split into arguments
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNAMESPACE=${namespace} -DFOLDER=${folder}
            "-DFILES=${joined}" -P ${PROJECT_SOURCE_DIR}/cmake/EmbedFiles.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/EmbedFiles.cmake
    COMMENT "Embedding ${folder}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
